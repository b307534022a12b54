//! Commands async-imap has no method for (LIST-STATUS, SELECT … QRESYNC): send the line,
//! hand each untagged reply to the caller, finish at the tagged one.

use crate::session::{with_timeout, ImapSession};
use crate::ImapError;
use async_imap::imap_proto::{Response, Status};

impl ImapSession {
    pub(crate) async fn raw_command(
        &mut self,
        what: &'static str,
        command: &str,
        mut each: impl FnMut(&Response<'_>) -> Result<(), ImapError>,
    ) -> Result<(), ImapError> {
        with_timeout(what, async {
            let tag = self.inner().run_command(command).await?;
            loop {
                let Some(reply) = self.inner().read_response().await? else {
                    return Err(closed());
                };
                if let Some(e) = goodbye(reply.parsed()) {
                    return Err(e);
                }
                match reply.parsed() {
                    Response::Done {
                        tag: done,
                        status,
                        information,
                        ..
                    } if *done == tag => {
                        let text = information.as_deref().unwrap_or("").trim().to_string();
                        return match status {
                            Status::Ok => Ok(()),
                            _ => Err(ImapError::Refused(text)),
                        };
                    }
                    other => each(other)?,
                }
            }
        })
        .await?
    }
}

/// The connection ended while a command was under way.
pub(crate) fn closed() -> ImapError {
    ImapError::ConnectionLost("the server closed the connection".into())
}

/// A BYE in the middle of a command: the server is ending the connection.
pub(crate) fn goodbye(reply: &Response<'_>) -> Option<ImapError> {
    match reply {
        Response::Data {
            status: Status::Bye,
            information,
            ..
        } => Some(ImapError::ConnectionLost(format!(
            "the server said goodbye: {}",
            information.as_deref().unwrap_or("").trim()
        ))),
        _ => None,
    }
}

/// An IMAP quoted string. Folder names come from the server's LIST, so they are already in
/// the server's encoding; CR and LF can never be sent inside one.
pub(crate) fn quoted(name: &str) -> Result<String, ImapError> {
    if name.contains(['\r', '\n', '\0']) {
        return Err(ImapError::Protocol(format!(
            "folder name with a line break: {name:?}"
        )));
    }
    Ok(format!(
        "\"{}\"",
        name.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}
