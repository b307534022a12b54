#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the mail cache failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a cached record is corrupt ({0}); deleting the cache rebuilds it from the server")]
    Corrupt(String),
    #[error("the mail cache is in use by another Petrel ({0})")]
    Locked(String),
    #[error("the mail cache could not read or write its message files: {0}")]
    Files(#[from] std::io::Error),
}

impl From<postcard::Error> for StoreError {
    fn from(e: postcard::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
