//! How Petrel behaves as a desktop program: kept running in the tray when its window is
//! closed, started at login, started hidden. Kept in `desktop.json` of the config dir, read
//! before the window exists (a login start must know whether to show it).

use crate::EngineError;
use petrel_core::DesktopOptions;
use std::path::Path;

const FILE: &str = "desktop.json";

/// The saved options, or the defaults (nothing of this on) when there are none or they
/// cannot be read (a damaged file must not keep Petrel from starting).
pub fn load_desktop_options(config_dir: &Path) -> DesktopOptions {
    std::fs::read(config_dir.join(FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

pub fn save_desktop_options(
    config_dir: &Path,
    options: &DesktopOptions,
) -> Result<(), EngineError> {
    let bytes =
        serde_json::to_vec_pretty(options).map_err(|e| EngineError::InvalidInput(e.to_string()))?;
    crate::durable::write_atomically(config_dir, FILE, &bytes).map_err(|source| {
        EngineError::Storage {
            context: "Saving the desktop options".into(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_a_damaged_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_desktop_options(dir.path()), DesktopOptions::default());
        let on = DesktopOptions {
            keep_running_in_tray: true,
            start_at_login: true,
            start_hidden: true,
        };
        save_desktop_options(dir.path(), &on).unwrap();
        assert_eq!(load_desktop_options(dir.path()), on);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert_eq!(load_desktop_options(dir.path()), DesktopOptions::default());
    }
}
