//! Files written safely: never through a symlink another user planted, private where they hold
//! people's names and addresses, and warnings for secrets others can read.

use crate::common::*;
use sigov::db::Backend;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn scratch() -> PathBuf {
    // Kept: the caller uses the path after this returns.
    let d = crate::common::tempdir("files").keep();
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// A database with deadline alerts due on 2026-11-22 (four mails with an address).
fn data() -> TestDb {
    let t = TestDb::new(Backend::Sqlite);
    let mut d = Data::new(&t);
    d.project(
        "fb000000000000000000000000000001",
        "Fichiers",
        Some("2026-11-20"),
    );
    d.member(
        "fb100000000000000000000000000001",
        "fb000000000000000000000000000001",
        RESP,
        true,
    );
    t
}

fn check_to(t: &TestDb, mail: &Path, metrics: &Path) -> Run {
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env(
            "SIGOV_MAIL_TRANSPORT",
            &format!("file://{}", mail.display()),
        )
        .env("SIGOV_METRICS_FILE", metrics.to_str().expect("utf-8"))
        .args(["check", "deadlines"])
        .run()
}

#[test]
fn planted_symlinks_are_never_written_through() {
    let dir = scratch();
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    // A first run elsewhere tells the names the mail files will have.
    let first = data();
    let mail_a = dir.join("mail-a");
    check_to(&first, &mail_a, &dir.join("a.prom")).ok();
    let names: Vec<String> = std::fs::read_dir(&mail_a)
        .expect("mail dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert!(!names.is_empty());
    assert_eq!(
        mode(&mail_a),
        0o700,
        "a mail directory sigov creates is private"
    );
    for n in &names {
        assert_eq!(mode(&mail_a.join(n)), 0o600, "{n}: names and addresses");
    }
    // The same data again, into a directory where another user planted links at every name
    // sigov used to write (the old temporary names and the final ones), and at the metrics file.
    let t = data();
    let mail_b = dir.join("mail-b");
    std::fs::create_dir_all(&mail_b).expect("mail-b");
    for n in &names {
        std::os::unix::fs::symlink(&victim, mail_b.join(format!(".{n}.tmp"))).expect("link");
        std::os::unix::fs::symlink(&victim, mail_b.join(n)).expect("link");
    }
    let metrics = dir.join("sigov.prom");
    std::os::unix::fs::symlink(&victim, &metrics).expect("link");
    for pid_guess in 0..3 {
        let _ =
            std::os::unix::fs::symlink(&victim, dir.join(format!(".sigov.prom.{pid_guess}.tmp")));
    }
    check_to(&t, &mail_b, &metrics).ok();
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    assert!(!std::fs::symlink_metadata(&metrics)
        .expect("metrics")
        .file_type()
        .is_symlink());
    assert_eq!(mode(&metrics), 0o644, "node_exporter reads it");
    for n in &names {
        let p = mail_b.join(n);
        assert!(
            !std::fs::symlink_metadata(&p)
                .expect("eml")
                .file_type()
                .is_symlink(),
            "{n}"
        );
        assert_eq!(mode(&p), 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".sigov-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_database_and_its_mail_are_private() {
    let dir = scratch();
    let db = dir.join("demo.db");
    let mail = dir.join("mail");
    Sigov::new()
        .args([
            "demo",
            "--db",
            &format!("sqlite://{}", db.display()),
            "--scale",
            "5",
        ])
        .args([
            "--date",
            "2026-11-22",
            "--mail-dir",
            mail.to_str().expect("utf-8"),
        ])
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .run()
        .ok();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&mail), 0o700);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_configuration_file_with_a_secret_readable_by_all_is_warned_about() {
    let dir = scratch();
    let f = dir.join("sigov.toml");
    std::fs::write(&f, "[database]\nurl = \"mysql://u:Pw-S3cr3t@db/pm\"\n").expect("config");
    let show = || {
        Sigov::new()
            .env("SIGOV_CONFIG", f.to_str().expect("utf-8"))
            .args(["config", "show"])
            .run()
    };
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let r = show();
    assert!(
        r.stderr
            .contains("holds a secret and every user can read it"),
        "{r:#?}"
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let r = show();
    assert!(!r.stderr.contains("every user can read it"), "{r:#?}");
    // A syntax error names the line, never quotes it (it may hold the secret).
    std::fs::write(&f, "[database]\nurl = mysql://u:Pw-S3cr3t@db/pm\n").expect("config");
    let r = show();
    assert_eq!(r.code, 1);
    assert!(r.error_line().contains("line 2"), "{r:#?}");
    assert!(!r.stderr.contains("S3cr3t"), "{r:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_template_that_links_out_of_the_directory_is_refused() {
    let dir = scratch();
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("templates");
    std::fs::write(dir.join("outside.txt"), "{{ secret }}").expect("outside");
    std::os::unix::fs::symlink(dir.join("outside.txt"), templates.join("alert.txt")).expect("link");
    let r = Sigov::new()
        .env("SIGOV_MAIL_TEMPLATES", templates.to_str().expect("utf-8"))
        .args(["mail", "preview"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("is a symbolic link out of mail.templates_dir"),
        "{r:#?}"
    );
    // A link that stays inside is fine.
    std::fs::remove_file(templates.join("alert.txt")).expect("rm");
    let embedded = Sigov::new().args(["mail", "preview"]).run().ok();
    let _ = embedded;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Special files a test may make here: a FIFO always, and (as root, as CI runs) a private
/// character device like `/dev/null` (1, 3), never the real one.
fn special_files(dir: &Path) -> Vec<PathBuf> {
    let fifo = dir.join("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    let mut out = vec![fifo, dir.join("a-directory")];
    std::fs::create_dir_all(&out[1]).expect("dir");
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if is_root {
        let dev = dir.join("null");
        let made = std::process::Command::new("mknod")
            .arg(&dev)
            .args(["c", "1", "3"])
            .status()
            .expect("mknod");
        assert!(made.success(), "root can make a device node");
        out.push(dev);
    }
    out
}

fn file_type(p: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(p).expect("metadata").file_type()
}

/// Every command that writes a file refuses one that exists and is not a regular file (one
/// line, exit 1, the thing left as it was), replaces a symbolic link at the final name without
/// following it, and takes `-` as standard output.
#[test]
fn outputs_refuse_special_files_replace_links_and_take_dash_as_stdout() {
    let dir = scratch();
    let t = data();
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args(["check", "deadlines", "--no-mail"])
        .run()
        .ok();
    let row = t.count("SELECT MIN(id) AS n FROM sigov_outbox").to_string();
    // (arguments before the path, arguments after it)
    let commands: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["export", "alerts", "--output"], vec![]),
        (vec!["stats", "--html"], vec![]),
        (vec!["mail", "preview", "--id", &row, "--output"], vec![]),
    ];
    let specials = special_files(&dir);
    for (before, after) in &commands {
        for target in &specials {
            let kind = format!("{:?}", file_type(target));
            let r = t.sigov().args(before).arg_path(target).args(after).run();
            assert_eq!(r.code, 1, "{before:?} {}: {r:#?}", target.display());
            let line = r.error_line();
            assert!(
                line.contains("not a regular file: refusing to replace it"),
                "{line}"
            );
            assert_eq!(r.stderr.lines().count(), 1, "one line: {r:#?}");
            assert_eq!(format!("{:?}", file_type(target)), kind, "left as it was");
        }
        // A link planted at the name: replaced by the file, its target untouched.
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let link = dir.join("planted");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let r = t.sigov().args(before).arg_path(&link).args(after).run();
        assert_eq!(r.code, 0, "{before:?}: {r:#?}");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
        assert!(file_type(&link).is_file(), "the link itself was replaced");
        // `-`: standard output, no file named `-`.
        let r = t
            .sigov()
            .args(before)
            .arg_path(Path::new("-"))
            .args(after)
            .run();
        assert_eq!(r.code, 0, "{before:?} -: {r:#?}");
        assert!(r.stdout.len() > 100, "{before:?} -: {r:#?}");
        assert!(!Path::new("-").exists(), "no file named `-`");
    }
    // The samples' directory: a planted link is refused, nothing written where it points.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    let samples = dir.join("samples");
    std::os::unix::fs::symlink(&elsewhere, &samples).expect("symlink");
    let r = t
        .sigov()
        .args(["mail", "preview", "--output"])
        .arg_path(&samples)
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("is a symbolic link"), "{r:#?}");
    assert_eq!(std::fs::read_dir(&elsewhere).expect("dir").count(), 0);
    // A link planted at one sample's name inside a real directory is replaced, not followed.
    let real = dir.join("real-samples");
    std::fs::create_dir_all(&real).expect("dir");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let r = t
        .sigov()
        .args(["mail", "preview", "--output"])
        .arg_path(&real)
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let first = std::fs::read_dir(&real)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "eml"))
        .expect("a sample");
    std::fs::remove_file(&first).expect("rm");
    std::os::unix::fs::symlink(&victim, &first).expect("symlink");
    let r = t
        .sigov()
        .args(["mail", "preview", "--output"])
        .arg_path(&real)
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    assert!(file_type(&first).is_file());
    assert_eq!(mode(&first), 0o600, "mails are the owner's only");
    // The samples on standard output: refused in one line (exit 2), they need a directory.
    let r = t.sigov().args(["mail", "preview", "--output", "-"]).run();
    assert_eq!(r.code, 2, "{r:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The file transport's probe (`config check`) never writes through a planted link.
#[test]
fn the_file_transport_probe_never_follows_a_planted_link() {
    let dir = scratch();
    let t = data();
    let mail = dir.join("mail");
    std::fs::create_dir_all(&mail).expect("dir");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    std::os::unix::fs::symlink(&victim, mail.join(".sigov-probe")).expect("symlink");
    let r = t
        .sigov()
        .env(
            "SIGOV_MAIL_TRANSPORT",
            &format!("file://{}", mail.display()),
        )
        .args(["config", "check"])
        .run();
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious",
        "{r:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
