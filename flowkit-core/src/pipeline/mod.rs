//! Feeding records to a tool and taking them out: opening inputs of every form (paths,
//! directories, globs, stdin pipes of archives, block references, flow-tools and nfdump files),
//! pruning by zone maps, how each input form's trouble is worded, and where binary flows go
//! (files, dated trees, pipes), and flows selected by a filter passed from one to the other.

pub mod forms;
pub mod input;
pub mod logs;
pub mod pipe;
pub mod scan;
pub mod select;
pub mod sink;
