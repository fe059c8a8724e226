//! Media through the real SFU: synthetic WebRTC participants (the load
//! generator's own str0m clients) join one call through the server's
//! signalling on loopback, and every publisher's audio (through the voice
//! slots) and video reach every other participant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use loadgen::calls::{self, Config, Target};
use loadgen::pacing::VideoPlan;
use server::messenger::calls::CallsConfig;
use std::sync::Arc;
use std::time::Duration;

/// A server with calls on loopback; dropping the sender stops it.
async fn start_server(data: &std::path::Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let store = storage::Store::open(&loadgen::seed::database_url(data)).await.unwrap();
    let mut state = server::AppState::new(store, Arc::new(sms::LogSender::new()));
    state.start_calls(CallsConfig::default()).await.unwrap();
    let media = state.calls.media_addresses();
    assert!(!media.is_empty() && media.iter().all(|a| a.ip().is_loopback()), "media stays on loopback: {media:?}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

/// A teacher with a camera and two students with microphones.
fn small_class() -> Config {
    Config {
        audio_publishers: 2,
        video_publishers: 1,
        participants: 3,
        warmup: Duration::from_secs(1),
        seconds: Duration::from_secs(3),
        drain: Duration::from_secs(1),
        settle_timeout: Duration::from_secs(30),
        quiet: Duration::from_secs(1),
        join_concurrency: 2,
        video: VideoPlan { bitrate: 300_000, ..VideoPlan::default() },
        talkers: loadgen::pacing::DEFAULT_TALKERS,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_publishers_audio_and_video_reach_every_other_participant_through_the_sfu() {
    let data = tempfile::tempdir().unwrap();
    let (url, stop) = start_server(data.path()).await;
    let config = small_class();
    let report = calls::run(&Target { url, data: data.path().to_path_buf(), pid: None }, &config).await.unwrap();
    assert_eq!((report.connected, report.failed), (3, 0), "{:?}", report.errors);
    assert!(report.settled, "the camera and every voice slot began to flow");
    assert_eq!(report.streams_live, report.streams_expected, "each participant receives each other publisher");
    assert_eq!(report.duplicates, 0, "no frame arrives twice");
    assert_eq!(report.out_of_order, 0, "the batched sends keep every stream's order");
    // Loopback loses nothing, but a debug build on a busy machine may fall behind.
    assert!(report.loss_percent() < 5.0, "loss {:.2} %", report.loss_percent());
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_microphones_are_not_forwarded_and_the_camera_still_is() {
    let data = tempfile::tempdir().unwrap();
    let (url, stop) = start_server(data.path()).await;
    // Both students fall silent once the call has settled (after everyone
    // was heard), a second before the window.
    let config = Config { talkers: 0, ..small_class() };
    let report = calls::run(&Target { url, data: data.path().to_path_buf(), pid: None }, &config).await.unwrap();
    assert_eq!((report.connected, report.failed), (3, 0), "{:?}", report.errors);
    assert!(report.settled, "the camera and every voice slot began to flow while everyone spoke");
    assert_eq!(report.audio.expected, 0, "no voiced frame was due in the window");
    assert_eq!(report.silent_frames_forwarded, 0, "the SFU forwarded silence");
    assert!(report.video.expected > 0 && report.video.loss_percent() < 5.0, "video {:?}", report.video);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voices_come_through_at_most_three_slots_and_a_new_voice_waits_only_for_a_held_slot() {
    let data = tempfile::tempdir().unwrap();
    let (url, stop) = start_server(data.path()).await;
    // A camera and five microphones, three talking: every turn (2 s) one
    // voice stops as another starts, and a listener whose three slots were
    // all loud must hold the new voice back for 300 ms.
    let config = Config {
        audio_publishers: 5,
        participants: 6,
        warmup: Duration::from_secs(1),
        seconds: Duration::from_secs(5),
        talkers: loadgen::pacing::VOICE_SLOTS,
        ..small_class()
    };
    let report = calls::run(&Target { url, data: data.path().to_path_buf(), pid: None }, &config).await.unwrap();
    assert_eq!((report.connected, report.failed), (6, 0), "{:?}", report.errors);
    assert!(report.settled, "the camera and every participant's voice slots flowed");
    // Audio on `voices` m-lines, no more than three of them; video on `p<person>`.
    assert!(report.observations.is_empty(), "{:?}", report.observations);
    // The 300 ms a new voice waits for a held slot is not loss: counted as
    // loss it would be 15 % of the stream it starts (and 1.7 % of all audio).
    let worst = report.worst_stream.map_or(0.0, |(loss, ..)| loss);
    assert!(worst < 10.0, "worst stream {:?}", report.worst_stream);
    assert!(report.audio.loss_percent() < 1.0, "audio {:?}", report.audio);
    assert!(report.audio_at_once > 0.0 && report.video_at_once > 0.0);
    let _ = stop.send(());
}
