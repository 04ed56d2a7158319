//! Flow statistics.
