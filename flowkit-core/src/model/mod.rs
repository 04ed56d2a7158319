//! The flow model at the bottom of every layer: the flow record ([`record`]), the column
//! block that archives store, pipes carry and filters scan ([`block`]), and what a flow's
//! packets and octets count ([`counts`]), the one table of field names that outputs, keys and
//! users' names share ([`fields`]), the IANA protocol and service names that filters, printers
//! and reports share ([`names`]), reading helpers ([`io`]), the text forms of MAC addresses, MPLS
//! entries and application ids ([`l2`]), and Crypto-PAn address anonymisation
//! ([`anon`]). Nothing here knows a wire format
//! or a file.

pub mod anon;
pub mod block;
pub mod counts;
pub mod fields;
pub mod io;
pub mod l2;
pub mod names;
pub mod record;
