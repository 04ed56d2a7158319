//! The detectors on small scenarios built here (other addresses, times and volumes than the
//! sample capture, and the cases that must not be reported), and on the sample data: the
//! scenario captures imported from export packets and the flow-tools archive.

use super::beacon::{Beacon, BeaconConfig};
use super::ddos::{Ddos, DdosConfig};
use super::exfil::{Exfil, ExfilConfig};
use super::irc_after_ssh::{IrcAfterSsh, IrcAfterSshConfig};
use super::scan::{Scan, ScanConfig};
use super::ssh_bruteforce::{BruteForceConfig, SshBruteForce};
use super::*;
use crate::model::record::FlowRecord;
use std::net::IpAddr;

const T0: i64 = 1_614_816_000_000; // 2021-03-04 00:00 UTC
const MIN: i64 = 60_000;
const FSPA: u8 = 0x1b;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Flows of a made-up scenario.
#[derive(Default)]
struct Story {
    flows: Vec<FlowRecord>,
}

impl Story {
    #[allow(clippy::too_many_arguments)]
    fn flow(
        &mut self,
        src: &str,
        sp: u16,
        dst: &str,
        dp: u16,
        p: u8,
        t: i64,
        dur: i64,
        pk: u64,
        oc: u64,
        fl: u8,
    ) {
        self.flows.push(FlowRecord {
            start_ms: t,
            end_ms: t + dur,
            src_addr: ip(src),
            dst_addr: ip(dst),
            src_port: sp,
            dst_port: dp,
            protocol: p,
            tcp_flags: fl,
            packets: pk,
            octets: oc,
            ..FlowRecord::default()
        });
    }

    /// A TCP connection: the client's flow and the server's answer.
    #[allow(clippy::too_many_arguments)]
    fn conn(
        &mut self,
        cli: &str,
        cp: u16,
        srv: &str,
        sp: u16,
        t: i64,
        dur: i64,
        pk: (u64, u64),
        oc: (u64, u64),
    ) {
        self.flow(cli, cp, srv, sp, 6, t, dur, pk.0, oc.0, FSPA);
        self.flow(srv, sp, cli, cp, 6, t + 1, dur, pk.1, oc.1, FSPA);
    }

    /// A short failed SSH login: a handful of packets, a few kB, a second or two.
    fn attempt(&mut self, cli: &str, cp: u16, srv: &str, t: i64) {
        self.conn(cli, cp, srv, 22, t, 1_500, (9, 7), (1_400, 2_600));
    }

    /// An SSH session that moved real data.
    fn session(&mut self, cli: &str, cp: u16, srv: &str, t: i64, dur: i64, octets: u64) {
        self.conn(
            cli,
            cp,
            srv,
            22,
            t,
            dur,
            (400, 380),
            (octets / 3, octets - octets / 3),
        );
    }

    /// Runs a detector over the flows cut into blocks of 7, in the given order and reversed
    /// (flows reach a collector in any order); both runs must agree.
    fn hunt(&self, make: &dyn Fn() -> Box<dyn Detector>) -> Vec<Finding> {
        let run = |flows: &[FlowRecord]| {
            let bufs: Vec<FlowBlockBuf> = flows.chunks(7).map(FlowBlockBuf::from_records).collect();
            let views: Vec<FlowBlock<'_>> = bufs.iter().map(|b| b.view()).collect();
            run_on_blocks(make().as_mut(), &views)
        };
        let a = run(&self.flows);
        let mut rev = self.flows.clone();
        rev.reverse();
        let b = run(&rev);
        let key = |f: &Vec<Finding>| -> Vec<(String, IpAddr, Option<IpAddr>, String)> {
            f.iter()
                .map(|x| {
                    (
                        x.kind.to_string(),
                        x.subject,
                        x.peer,
                        format!("{:.6}", x.score),
                    )
                })
                .collect()
        };
        assert_eq!(
            key(&a),
            key(&b),
            "findings depend on the order of the flows"
        );
        a
    }
}

fn irc(cfg: IrcAfterSshConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(IrcAfterSsh::new(cfg.clone()))
}

fn brute(cfg: BruteForceConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(SshBruteForce::new(cfg.clone()))
}

fn scan(cfg: ScanConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(Scan::new(cfg.clone()))
}

fn beacon(cfg: BeaconConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(Beacon::new(cfg.clone()))
}

fn ddos(cfg: DdosConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(Ddos::new(cfg.clone()))
}

fn exfil(cfg: ExfilConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(Exfil::new(cfg.clone()))
}

fn roles(f: &Finding) -> Vec<&'static str> {
    f.evidence.iter().map(|e| e.role).collect()
}

mod beacon;
mod bruteforce;
mod ddos;
mod exfil;
mod irc_after_ssh;
mod scan;
mod story;
