//! A real SMTP relay for the mail tests: `tests/smtp/server.py` (aiosmtpd) on loopback, with a
//! throwaway CA and server certificate made once per test binary by `openssl`. The test command
//! installs what it needs; a relay that cannot start fails the test, never skips it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub const USER: &str = "sigov";
pub const PASSWORD: &str = "s3cret";

/// The Python that has aiosmtpd (the test command sets it; Debian's by default).
pub fn python() -> String {
    std::env::var("SIGOV_TEST_PYTHON").unwrap_or_else(|_| {
        if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3".to_owned()
        } else {
            "python3".to_owned()
        }
    })
}

/// (CA certificate, server certificate, server key), valid for localhost and 127.0.0.1.
pub fn certs() -> &'static (PathBuf, PathBuf, PathBuf) {
    static CERTS: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sigov-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cert dir");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("run openssl (the test command installs it)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut a = vec!["req", "-x509"];
        a.extend(ec);
        a.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3",
            "-subj",
            "/CN=sigov test CA",
        ]);
        run(&a);
        let mut a = vec!["req"];
        a.extend(ec);
        a.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        run(&a);
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .expect("ext");
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "3",
            "-extfile",
            "ext",
        ]);
        (
            dir.join("ca.pem"),
            dir.join("server.pem"),
            dir.join("server.key"),
        )
    })
}

pub struct Relay {
    child: Child,
    pub dir: PathBuf,
    pub plain: u16,
    pub starttls: u16,
    pub tls: u16,
}

/// One message as the relay received it (see server.py).
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub listener: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub auth: bool,
    pub tls: bool,
    /// The client wrote DATA with RCPT (PIPELINING).
    pub pipelined: bool,
    pub subject: String,
    pub headers: Vec<(String, String)>,
    pub raw_headers: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Part {
    #[serde(rename = "type")]
    pub content_type: String,
    pub content: Option<String>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn part(&self, ty: &str) -> &str {
        self.parts
            .iter()
            .find(|p| p.content_type == ty)
            .and_then(|p| p.content.as_deref())
            .unwrap_or_else(|| panic!("no {ty} part: {self:#?}"))
    }
}

impl Relay {
    pub fn start() -> Relay {
        Relay::start_with(&[])
    }

    /// Starts the relay with extra server.py options (for example `--slow-data 5`).
    pub fn start_with(extra: &[&str]) -> Relay {
        let (_, cert, key) = certs();
        let n = crate::common::unique();
        let dir = std::env::temp_dir().join(format!("sigov-relay-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("relay dir");
        let log = std::fs::File::create(dir.join("relay.log")).expect("relay log");
        let mut child = Command::new(python())
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py"))
            .args(["--dir", dir.to_str().expect("utf-8 path")])
            .args([
                "--cert",
                cert.to_str().expect("utf-8"),
                "--key",
                key.to_str().expect("utf-8"),
            ])
            .args(["--user", USER, "--password", PASSWORD])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the test SMTP relay (python3 with aiosmtpd: run the test command)");
        let stdout = child.stdout.take().expect("relay stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the relay's ports");
        let ports: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.join("relay.log")).unwrap_or_default();
            panic!("the test SMTP relay did not start ({e}): `{line}`\n{log}")
        });
        let port = |k: &str| ports[k].as_u64().expect("port") as u16;
        Relay {
            plain: port("plain"),
            starttls: port("starttls"),
            tls: port("tls"),
            child,
            dir,
        }
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.extension().is_some_and(|x| x == "json")
                            && !p
                                .file_name()
                                .is_some_and(|f| f.to_string_lossy().starts_with('.'))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| {
                serde_json::from_str(&std::fs::read_to_string(f).expect("read message"))
                    .expect("message json")
            })
            .collect()
    }

    /// Plain SMTP on loopback (no TLS, no AUTH).
    pub fn plain_url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.plain)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// sigov configured for the STARTTLS + AUTH listener, trusting the throwaway CA.
pub fn starttls(s: crate::common::Sigov, relay: &Relay) -> crate::common::Sigov {
    s.env(
        "SIGOV_MAIL_TRANSPORT",
        &format!("smtp://localhost:{}", relay.starttls),
    )
    .env("SIGOV_SMTP_USER", USER)
    .env("SIGOV_SMTP_PASSWORD", PASSWORD)
    .env("SIGOV_SMTP_CA_FILE", certs().0.to_str().expect("utf-8"))
}
