//! Where results go: stdout, and the files `--json`, `--trace`, `--html` and friends name.
//!
//! A report that is lost must never look like a success. A reader that went away on purpose
//! (`fencepost stress | head`: the pipe closes, EPIPE) is not an error, so the process stops
//! quietly with exit 0; any other failed write to stdout (a full disk, `> /dev/full`, an I/O
//! error) is `error: cannot write to stdout: ...` and exit 2. (A stdout closed before the start,
//! `>&-`, cannot be told from `> /dev/null`: Rust's runtime reopens it on /dev/null, a discard
//! the caller chose.) Files are written to
//! a temporary file beside the target and renamed over it, so a killed process never leaves half
//! a summary where a whole one is expected.

use crate::{exit, UsageError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Writes one line to stdout (see the module's note on failed writes).
pub fn line(text: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        stdout_failed(&error);
    }
}

/// Writes text to stdout without a newline (see the module's note on failed writes).
pub fn text(text: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = write!(stdout, "{text}").and_then(|()| stdout.flush()) {
        stdout_failed(&error);
    }
}

/// Ends the process after a failed write to stdout: quietly for a closed pipe, else loudly.
fn stdout_failed(error: &std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(exit::PASSED.into());
    }
    eprintln!("error: cannot write to stdout: {error}");
    std::process::exit(exit::USAGE.into());
}

/// Writes `contents` to `path` whole or not at all: into a temporary file beside it, then
/// renamed over it. A path that is not a regular file (`/dev/stdout`, a named pipe) is written
/// in place, since renaming over it would replace the device instead of writing to it.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), UsageError> {
    write_file_with(path, |out| out.write_all(contents))
}

/// [`write_file`] with the contents streamed by `fill` into a buffered writer.
pub fn write_file_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), UsageError> {
    let failed = |e: std::io::Error| UsageError(format!("cannot write {}: {e}", path.display()));
    if path.exists() && !path.is_file() {
        let file = std::fs::OpenOptions::new().write(true).open(path).map_err(failed)?;
        let mut out = std::io::BufWriter::new(file);
        return fill(&mut out).and_then(|()| out.flush()).map_err(failed);
    }
    // Renaming over a symbolic link would replace the link: write where it points.
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let temporary = temporary_beside(&target);
    let written = std::fs::File::create(&temporary).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(error));
    }
    Ok(())
}

/// Fails, before anything runs, when `path` cannot be written as [`write_file`] writes it: a
/// folder, or a place where no file can be created. So a long run never ends with its results
/// lost. `flag` names the option, for the message.
pub fn check_writable(flag: &str, path: &Path) -> Result<(), UsageError> {
    let failed = |why: String| UsageError(format!("cannot write {flag} {}: {why}", path.display()));
    if path.is_dir() {
        return Err(failed("it is a folder".into()));
    }
    if path.exists() && !path.is_file() {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map(drop)
            .map_err(|e| failed(e.to_string()));
    }
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let probe = temporary_beside(&target);
    std::fs::File::create(&probe).map_err(|e| failed(e.to_string()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// A file name beside `path` that no other process writes: `.<name>.<pid>.tmp`.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// True when `a` and `b` name the same file: the same inode when both exist, else the same
/// place once their folders are resolved (so `./x` and `x`, or a symlinked folder, match).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (a.dev(), a.ino()) == (b.dev(), b.ino());
        }
    }
    resolved(a) == resolved(b)
}

/// `path` with its folder resolved (it need not exist yet).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = std::fs::canonicalize(&parent).unwrap_or(parent);
    parent.join(path.file_name().unwrap_or_default())
}

/// Refuses an output path that is also an input or another output of the same command (`merge
/// a b --json a`, `view t --html t`), which would overwrite what the command reads or writes.
/// `paths` pairs each path with the option that names it (`"input"` for a positional one).
pub fn check_distinct(paths: &[(&str, &Path)]) -> Result<(), UsageError> {
    for (index, (flag, path)) in paths.iter().enumerate() {
        for (other_flag, other) in &paths[..index] {
            if same_file(path, other) {
                return Err(UsageError(format!(
                    "{flag} {} is the same file as {other_flag} {}: one would overwrite the \
                     other; choose another path",
                    path.display(),
                    other.display()
                )));
            }
        }
    }
    Ok(())
}

/// Reads `path` as text, at most `limit_bytes` of it: a file past that is an error naming the
/// limit (so `--schedule /dev/zero` stops at once instead of reading until memory runs out).
/// `what` says what the file should be, for the messages.
pub fn read_capped(path: &Path, limit_bytes: u64, what: &str) -> Result<String, UsageError> {
    let failed = |e: std::io::Error| UsageError(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(failed)?;
    let mut bytes = Vec::new();
    file.take(limit_bytes + 1).read_to_end(&mut bytes).map_err(failed)?;
    if bytes.len() as u64 > limit_bytes {
        return Err(UsageError(format!(
            "{} is larger than {} MiB: too large for {what}",
            path.display(),
            limit_bytes >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| UsageError(format!("{} is not UTF-8 text ({what}): {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("fencepost-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = scratch("write");
        let path = dir.join("s.json");
        std::fs::write(&path, "old and longer than the new text").unwrap();
        write_file(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["s.json"], "no temporary file is left");
        let failed = write_file_with(&path, |_| Err(std::io::Error::other("killed")));
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "new",
            "a failed write changes nothing"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_same_file_is_found_under_another_name() {
        let dir = scratch("same");
        let a = dir.join("a.json");
        std::fs::write(&a, "x").unwrap();
        assert!(same_file(&a, &dir.join(".").join("a.json")));
        assert!(same_file(&dir.join("new.json"), &dir.join("./new.json")), "neither exists yet");
        assert!(!same_file(&a, &dir.join("b.json")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
