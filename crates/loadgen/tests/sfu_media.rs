//! Media through the real SFU: synthetic WebRTC participants (the load
//! generator's own str0m clients) join one call through the server's
//! signalling on loopback, and every publisher's audio and video reach every
//! other participant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use loadgen::calls::{self, Config, Target};
use loadgen::pacing::VideoPlan;
use server::messenger::calls::CallsConfig;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_publishers_audio_and_video_reach_every_other_participant_through_the_sfu() {
    let data = tempfile::tempdir().unwrap();
    let store = storage::Store::open(&loadgen::seed::database_url(data.path())).await.unwrap();
    let mut state = server::AppState::new(store, Arc::new(sms::LogSender::new()));
    state.start_calls(CallsConfig::default()).await.unwrap();
    assert!(state.calls.media_address().unwrap().ip().is_loopback(), "media stays on loopback");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    // A teacher with a camera and two students with microphones.
    let config = Config {
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
    };
    let report = calls::run(&Target { url, data: data.path().to_path_buf(), pid: None }, &config).await.unwrap();
    assert_eq!((report.connected, report.failed), (3, 0), "{:?}", report.errors);
    assert!(report.settled, "every stream began to flow");
    assert_eq!(report.streams_live, report.streams_expected, "each participant receives each other publisher");
    assert_eq!(report.duplicates, 0, "no frame arrives twice");
    // Loopback loses nothing, but a debug build on a busy machine may fall behind.
    assert!(report.loss_percent() < 5.0, "loss {:.2} %", report.loss_percent());
    let _ = stop.send(());
}
