//! `parta doctor` against a good configuration and broken ones: each
//! problem is named with its fix, and makes the exit status non-zero. The
//! documented S3 example passes it against a local S3 server (`testkit::s3`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;

const SMS: &str =
    "[sms]\nprovider = \"http\"\nurl = \"https://sms.example.ru/send\"\nbody_template = \"{phone} {text}\"\n";

/// `parta doctor --config FILE` with `toml` written to FILE: (succeeded, stdout).
fn doctor(dir: &Path, toml: &str) -> (bool, String) {
    let config = dir.join("parta.toml");
    std::fs::write(&config, toml).unwrap();
    let out = common::run(&["doctor", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.stderr.is_empty(), "doctor reports on stdout: {}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout)
}

/// A configuration that works: a migrated SQLite database in `dir`, a free
/// port, an SMS provider, calls on a free UDP port.
fn good(dir: &Path) -> String {
    let data = dir.join("data");
    let made = common::run(&["provision", "--data", data.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    format!(
        "listen = \"127.0.0.1:{}\"\ndata_dir = {:?}\n{SMS}[calls]\nudp_bind = \"127.0.0.1:{}\"\n",
        common::free_port(),
        data,
        free_udp_port()
    )
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn problem_line<'a>(stdout: &'a str, area: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM") && l.split_whitespace().nth(1) == Some(area))
        .unwrap_or_else(|| panic!("no {area} problem in:\n{stdout}"))
}

#[test]
fn a_good_configuration_passes_with_the_database_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout) = doctor(dir.path(), &good(dir.path()));
    assert!(ok, "{stdout}");
    assert!(stdout.contains("is reachable and migrated"), "{stdout}");
    assert!(!stdout.contains("PROBLEM"), "{stdout}");
    assert!(stdout.contains("no problems") || stdout.contains("all checks passed"), "{stdout}");
}

#[test]
fn a_wrong_database_url_is_a_problem_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!("database_url = \"postgres://parta:secret@127.0.0.1:1/parta\"\n{}", good(dir.path()));
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(!ok, "{stdout}");
    assert!(
        problem_line(&stdout, "database").contains("cannot reach the database postgres://parta:***@127.0.0.1:1/parta")
    );
    assert!(stdout.contains("fix: check database_url (PARTA_DATABASE_URL)"), "{stdout}");
    assert!(!stdout.contains("secret"), "the password stays out of the report: {stdout}");
}

#[test]
fn an_unwritable_data_directory_is_a_problem_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    // Tests may run as root, whom permissions do not stop: a folder under a
    // regular file cannot be made by anyone.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"").unwrap();
    let toml =
        good(dir.path()).replace(&format!("{:?}", dir.path().join("data")), &format!("{:?}", blocker.join("data")));
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(!ok, "{stdout}");
    assert!(problem_line(&stdout, "data").contains("cannot write in the data directory"), "{stdout}");
    assert!(stdout.contains("give it to the user Parta runs as"), "{stdout}");
    assert!(problem_line(&stdout, "files").contains("cannot write in the files store"), "{stdout}");
}

#[test]
fn a_taken_port_is_a_problem_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let toml = format!(
        "listen = \"{}\"\ndata_dir = {:?}\n{SMS}[calls]\nudp_bind = \"{}\"\n",
        tcp.local_addr().unwrap(),
        dir.path(),
        udp.local_addr().unwrap()
    );
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(!ok, "{stdout}");
    assert!(problem_line(&stdout, "listen").contains(&format!("cannot listen on {}", tcp.local_addr().unwrap())));
    assert!(stdout.contains("another program holds the port"), "{stdout}");
    assert!(problem_line(&stdout, "calls").contains(&format!("cannot bind UDP {}", udp.local_addr().unwrap())));
}

#[test]
fn https_without_secure_cookies_and_calls_without_an_address_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "public_url = \"https://parta.school.ru\"\n{}",
        good(dir.path()).replace("udp_bind = \"127.0.0.1:", "udp_bind = \"0.0.0.0:")
    );
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(!ok, "{stdout}");
    assert!(problem_line(&stdout, "cookies").contains("cookies are not marked Secure"), "{stdout}");
    assert!(stdout.contains("set secure_cookies = true"), "{stdout}");
    assert!(problem_line(&stdout, "calls").contains("no address is advertised"), "{stdout}");
}

#[test]
fn without_an_sms_provider_doctor_warns_but_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout) = doctor(dir.path(), &good(dir.path()).replace(SMS, ""));
    assert!(ok, "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("WARNING") && l.contains("only written to the log")), "{stdout}");
}

#[tokio::test]
async fn a_cluster_node_checks_nats_and_warns_of_what_nodes_cannot_share() {
    let Some(nats) = testkit::nats::NatsServer::start("doctor nats").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let toml = format!("nats_url = \"{}\"\n{}", nats.url(), good(dir.path()));
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(ok, "warnings only: {stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("ok") && l.contains("takes this node")), "{stdout}");
    assert!(stdout.contains("only nodes on this one machine can share it"), "{stdout}");
    assert!(stdout.contains("use [files] backend = \"s3\""), "{stdout}");

    let toml = format!("nats_url = \"nats://parta:s3cret@127.0.0.1:{}\"\n{}", common::free_port(), good(dir.path()));
    let (ok, stdout) = doctor(dir.path(), &toml);
    assert!(!ok, "{stdout}");
    assert!(problem_line(&stdout, "nats").contains("nats://***@127.0.0.1"), "{stdout}");
    assert!(!stdout.contains("s3cret"), "the password stays out of the report: {stdout}");
}

/// The `[files]` block of docs/configuration.md whose endpoint is `endpoint`.
fn documented_files_block(endpoint: &str) -> String {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md")).unwrap();
    let block = docs
        .split("```toml\n")
        .filter_map(|part| part.split_once("```").map(|(block, _)| block))
        .find(|block| block.contains(&format!("endpoint = \"{endpoint}\"")))
        .unwrap_or_else(|| panic!("docs/configuration.md has no [files] example for {endpoint}"));
    block.to_string()
}

#[tokio::test]
async fn the_documented_minio_example_passes_doctor_against_an_s3_server() {
    let Some(s3) = testkit::s3::S3Server::start("doctor on S3").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let files =
        documented_files_block("http://127.0.0.1:9000").replace("127.0.0.1:9000", &format!("127.0.0.1:{}", s3.port));
    let (ok, stdout) = doctor(dir.path(), &format!("{}{files}", good(dir.path())));
    assert!(ok, "{stdout}");
    assert!(stdout.contains("S3 bucket \"parta-files\" takes and deletes an object"), "{stdout}");
}
