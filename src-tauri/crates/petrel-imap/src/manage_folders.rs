//! Creating, renaming, deleting and (un)subscribing folders (RFC 3501 §6.3).

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;

impl ImapSession {
    pub async fn create_folder(&mut self, path: &str) -> Result<(), ImapError> {
        with_timeout("creating the folder", self.inner().create(path)).await??;
        // Subscribed so that clients that only show subscribed folders see it too.
        with_timeout("subscribing", self.inner().subscribe(path)).await??;
        Ok(())
    }

    pub async fn rename_folder(&mut self, from: &str, to: &str) -> Result<(), ImapError> {
        self.unselect().await;
        with_timeout("renaming the folder", self.inner().rename(from, to)).await??;
        let _ = with_timeout("unsubscribing", self.inner().unsubscribe(from)).await;
        with_timeout("subscribing", self.inner().subscribe(to)).await??;
        Ok(())
    }

    pub async fn delete_folder(&mut self, path: &str) -> Result<(), ImapError> {
        self.unselect().await;
        with_timeout("deleting the folder", self.inner().delete(path)).await??;
        let _ = with_timeout("unsubscribing", self.inner().unsubscribe(path)).await;
        Ok(())
    }

    /// Leaves the selected folder where UNSELECT (RFC 3691) exists, since some servers will
    /// not rename or delete a selected folder. Never CLOSE: it expunges every `\Deleted`
    /// message, including other clients'.
    async fn unselect(&mut self) {
        if self.has("UNSELECT") {
            let _ = with_timeout(
                "leaving the folder",
                self.inner().run_command_and_check_ok("UNSELECT"),
            )
            .await;
        }
    }

    pub async fn set_subscribed(&mut self, path: &str, on: bool) -> Result<(), ImapError> {
        if on {
            with_timeout("subscribing", self.inner().subscribe(path)).await??;
        } else {
            with_timeout("unsubscribing", self.inner().unsubscribe(path)).await??;
        }
        Ok(())
    }
}
