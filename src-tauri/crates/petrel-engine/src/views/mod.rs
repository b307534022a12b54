//! Views over the cache: a folder's list in any order or filtered, conversations, and the
//! merged views across accounts. They read the cache only; refreshing is the accounts'.

pub(crate) mod list_query;
pub(crate) mod threads;
pub(crate) mod unified;

use std::sync::Mutex;
pub(crate) use threads::ThreadIndex;

/// What the views keep between pages: the last order, grouping and merge computed, each
/// valid while the cache generation it was made at holds.
#[derive(Default)]
pub(crate) struct Views {
    query: Mutex<list_query::QueryCache>,
    thread: Mutex<threads::ThreadCache>,
    unified: Mutex<unified::UnifiedCache>,
}
