//! Writing files where other users may write too (a node_exporter textfile directory, a mail
//! directory): never through a name someone else chose.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file with a random name, created with
/// `O_EXCL` (a planted symlink or file makes the creation fail, it is never followed) in the
/// same directory, synced, given `mode`, then renamed over `path` (a rename replaces a symlink
/// at `path`, it does not write through it).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
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
