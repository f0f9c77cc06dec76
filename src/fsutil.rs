//! Writing files where other users may write too (a node_exporter textfile directory, a mail
//! directory): never through a name someone else chose. Every file sigov writes (exports,
//! statistics pages, previews, the metrics file, mail files) goes through [`write_atomic`] or
//! [`write_streamed`]: a target that exists and is not a regular file (a device such as
//! `/dev/null`, a FIFO, a directory, a socket) is refused, a symbolic link at the final name is
//! replaced (never followed), and `-` given on the command line is standard output
//! ([`Output`]).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where a command's `--output` (or `--html`) goes: `-` is standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// clap's value parser: `-` is standard output, anything else a file path.
    pub fn parse(s: &str) -> Result<Output, String> {
        match s {
            "" => Err("an empty path (use - for standard output)".to_owned()),
            "-" => Ok(Output::Stdout),
            p => Ok(Output::File(PathBuf::from(p))),
        }
    }
}

/// What kind of thing stands at a path, in words.
fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Refuses to replace anything at `path` but a regular file or a symbolic link (which the
/// rename replaces, never following it).
pub fn check_target(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() || m.file_type().is_symlink() => Ok(()),
        Ok(m) => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "`{}` is {}, not a regular file: refusing to replace it",
                path.display(),
                kind_of(m.file_type())
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A directory sigov writes files into (`mail preview --output DIR`): created owner-only when
/// missing; a symbolic link or anything that is not a directory is refused, so files never land
/// where a link planted by someone else points.
pub fn output_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) if m.file_type().is_symlink() => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "`{}` is a symbolic link: refusing to write through it (name the directory itself)",
                dir.display()
            ),
        )),
        Ok(m) => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "`{}` is {}, not a directory",
                dir.display(),
                kind_of(m.file_type())
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => private_dir(dir),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file with a random name, created with
/// `O_EXCL` (a planted symlink or file makes the creation fail, it is never followed) in the
/// same directory, synced, given `mode`, then renamed over `path` (a rename replaces a symlink
/// at `path`, it does not write through it).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    check_target(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".sigov-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    check_target(path)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Like [`write_atomic`], with the content written by `fill` into the temporary file (through a
/// buffer): a large export never sits in memory, and a failure leaves nothing at `path`.
pub fn write_streamed<T>(
    path: &Path,
    mode: u32,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<T>,
) -> std::io::Result<T> {
    check_target(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".sigov-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    let got = {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, tmp.as_file_mut());
        let got = fill(&mut w)?;
        w.flush()?;
        got
    };
    tmp.as_file().sync_all()?;
    // Checked again just before the rename: a device made meanwhile is not replaced either.
    check_target(path)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(got)
}

/// Creates `dir` (and its parents) readable by its owner only when it does not exist yet; an
/// existing directory keeps its mode.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Most bytes a secret file may hold (`database.url_file`, `mail.smtp_password_file` and every
/// `*_file` of a secret): a URL or a password fits many times over.
pub const SECRET_FILE_MAX: u64 = 4096;

/// Reads the file named by configuration key `key` whole, refusing in one line naming the key
/// what is not a regular file (a FIFO, a device such as `/dev/zero`, a directory: opened
/// without blocking, so a FIFO with no writer never hangs the command) or holds more than
/// `max` bytes. Links are followed (systemd credentials, Kubernetes secrets are links).
pub fn read_bounded(path: &Path, key: &str, max: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot read {key} `{shown}`: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| anyhow::anyhow!("cannot read {key} `{shown}`: {e}"))?;
    if !meta.is_file() {
        anyhow::bail!(
            "{key} `{shown}` is {}, not a regular file",
            kind_of(meta.file_type())
        );
    }
    if meta.len() > max {
        anyhow::bail!(
            "{key} `{shown}` holds {} bytes, more than the {max} a secret file may hold",
            meta.len()
        );
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Bounded even if the file grows while it is read.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read {key} `{shown}`: {e}"))?;
    if bytes.len() as u64 > max {
        anyhow::bail!("{key} `{shown}` holds more than the {max} bytes a secret file may hold");
    }
    Ok(bytes)
}

/// [`read_bounded`] for a secret: at most [`SECRET_FILE_MAX`] bytes of UTF-8 text.
pub fn read_secret(path: &Path, key: &str) -> anyhow::Result<String> {
    let bytes = read_bounded(path, key, SECRET_FILE_MAX)?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{key} `{}` is not UTF-8 text", path.display()))
}
