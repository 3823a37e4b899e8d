//! Python tools the test suites run against eventsync (an SMTP server, an OpenAPI fuzzer),
//! installed from PyPI into a virtual environment on first use, so a machine needs only
//! `python3` with `venv`; a test that cannot have them says why and skips.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtual environment at `venv` holding `package` (a pinned `name==version`), made on first
/// use; its `bin` folder, or why it cannot be had here.
pub fn venv_with(venv: &Path, package: &str) -> Result<PathBuf, String> {
    let bin = venv.join("bin");
    let marker = venv.join(format!(".installed-{package}"));
    if marker.exists() && bin.join("python").exists() {
        return Ok(bin);
    }
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .map_err(|_| format!("python3 is not installed, so {package} cannot run"))?;
    if !python.status.success() {
        return Err(format!("python3 does not run, so {package} cannot run"));
    }
    let created = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv)
        .output()
        .map_err(|error| format!("python3 -m venv failed to start: {error}"))?;
    if !created.status.success() {
        return Err(format!(
            "python3 cannot make a virtual environment (install python3-venv): {}",
            String::from_utf8_lossy(&created.stderr).trim()
        ));
    }
    let installed = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            package,
        ])
        .output()
        .map_err(|error| format!("pip failed to start: {error}"))?;
    if !installed.status.success() {
        return Err(format!(
            "pip could not install {package} (is PyPI reachable?): {}",
            String::from_utf8_lossy(&installed.stderr).trim()
        ));
    }
    std::fs::write(&marker, "").map_err(|error| format!("cannot mark the install: {error}"))?;
    Ok(bin)
}

/// The target folder a test binary was built into (`target/<profile>/deps/<test>`), where the
/// environments live so `cargo clean` removes them.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(std::env::temp_dir)
}
