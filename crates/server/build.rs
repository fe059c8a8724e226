// The web UI is embedded with include_dir!, which cargo cannot see into:
// rebuild when any file under web/ changes.
fn main() {
    println!("cargo:rerun-if-changed=web");
}
