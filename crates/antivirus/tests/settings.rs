//! Settings read from hm_settings, hm_blocked_attachments and hm_servermessages, on every
//! database engine.

use std::path::Path;

use altimail_antivirus::{AvAction, AvSettings, ClamdAddress};
use altimail_store::Store;
use altimail_store::repo::{blocked_attachments, settings};
use altimail_testkit::backends;

#[tokio::test]
async fn settings_come_from_the_database() {
    for db in backends("av_settings").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let (s, e) = (&store.db, db.engine);
        let temp = Path::new("/tmp");

        // Defaults: nothing on, hMailServer's default wildcards and texts.
        let av = AvSettings::load(&store, temp).await.unwrap();
        assert!(!av.scanning_enabled(), "{e}");
        assert!(!av.attachment_blocking && av.blocked.is_empty(), "{e}");
        assert_eq!(av.action, AvAction::DeleteMessage, "{e}");
        assert!(av.texts.attachment_removed.contains("%MACRO_FILE%"), "{e}");
        assert_eq!(blocked_attachments::list(s).await.unwrap().len(), 14, "{e}");

        settings::set_integer(s, "ClamAVEnabled", 1).await.unwrap();
        settings::set_string(s, "ClamAVHost", "127.0.0.1").await.unwrap();
        settings::set_integer(s, "ClamAVPort", 13310).await.unwrap();
        settings::set_integer(s, "usecustomvirusscanner", 1).await.unwrap();
        settings::set_string(s, "customvirusscannerexecutable", "/usr/bin/scan %FILE%").await.unwrap();
        settings::set_integer(s, "customviursscannerreturnvalue", 7).await.unwrap();
        settings::set_integer(s, "avclamwinenable", 1).await.unwrap();
        settings::set_string(s, "avclamwinexec", "C:\\ClamWin\\clamscan.exe").await.unwrap();
        settings::set_integer(s, "avaction", 1).await.unwrap();
        settings::set_integer(s, "avmaxmsgsize", 2048).await.unwrap();
        settings::set_integer(s, "avnotifysender", 1).await.unwrap();
        settings::set_integer(s, "enableattachmentblocking", 1).await.unwrap();
        blocked_attachments::add(s, "*.js", "JavaScript").await.unwrap();
        assert!(blocked_attachments::add(s, "*.JS", "again").await.is_err(), "{e}");
        let exe = blocked_attachments::find(s, "*.EXE").await.unwrap().unwrap();
        blocked_attachments::remove(s, exe.id).await.unwrap();
        assert!(blocked_attachments::remove(s, exe.id).await.is_err(), "{e}");

        let av = AvSettings::load(&store, temp).await.unwrap();
        let clamd = av.clamav.clone().unwrap();
        assert_eq!(clamd.address, ClamdAddress::Tcp { host: "127.0.0.1".into(), port: 13310 }, "{e}");
        assert_eq!(clamd.max_connections, 10, "{e}");
        let custom = av.custom.clone().unwrap();
        assert_eq!((custom.command_line.as_str(), custom.virus_exit_code), ("/usr/bin/scan %FILE%", 7), "{e}");
        // ClamWin's Windows path does not exist here: not supported, skipped.
        assert!(av.clamwin.is_none(), "{e}");
        assert_eq!(av.action, AvAction::StripAttachments, "{e}");
        assert_eq!(av.max_size_kb, 2048, "{e}");
        assert!(av.notify_sender && !av.notify_receiver, "{e}");
        assert!(av.blocked.iter().any(|w| w == "*.js") && !av.blocked.iter().any(|w| w == "*.exe"), "{e}");

        settings::set_string(s, "ClamAVHost", "/run/clamav/other.ctl").await.unwrap();
        let av = AvSettings::load(&store, temp).await.unwrap();
        assert_eq!(av.clamav.unwrap().address, ClamdAddress::Unix("/run/clamav/other.ctl".into()), "{e}");
        settings::set_string(s, "altimailclamavsocket", "/run/clamav/clamd.ctl").await.unwrap();
        let av = AvSettings::load(&store, temp).await.unwrap();
        assert_eq!(av.clamav.unwrap().address, ClamdAddress::Unix("/run/clamav/clamd.ctl".into()), "{e}");
        db.cleanup().await;
    }
}
