//! Feeding records to a tool: opening inputs of every form (paths, directories, globs, stdin
//! pipes of archives, block references, flow-tools and nfdump files), pruning by zone maps,
//! spooling, and how each input form's trouble is worded.

pub mod forms;
pub mod input;
