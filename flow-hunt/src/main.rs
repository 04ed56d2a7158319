//! flow-hunt: find break-ins in flows — IRC after SSH, SSH brute force, scans, beacons, DDoS, exfiltration.

use clap::{Args, Parser, Subcommand};
use flowkit_cli::{self as cli, FilterArgs, InputArgs, ToolError};
use flowkit_core::analyze::hunt::beacon::{Beacon, BeaconConfig};
use flowkit_core::analyze::hunt::ddos::{Ddos, DdosConfig};
use flowkit_core::analyze::hunt::exfil::{self, Exfil, ExfilConfig};
use flowkit_core::analyze::hunt::irc_after_ssh::{IrcAfterSsh, IrcAfterSshConfig};
use flowkit_core::analyze::hunt::output::{self, HuntFormat};
use flowkit_core::analyze::hunt::scan::{Scan, ScanConfig};
use flowkit_core::analyze::hunt::ssh::SshConfig;
use flowkit_core::analyze::hunt::ssh_bruteforce::{BruteForceConfig, SshBruteForce};
use flowkit_core::analyze::hunt::{self, Detector, Narrowing, PortSet, Suppress};
use flowkit_core::analyze::stat::measure::parse_amount;
use flowkit_core::model::counts::{self, CountNote};
use flowkit_core::ColumnSet;
use std::io::{self, Write};
use std::path::PathBuf;

const TOOL: &str = "flow-hunt";

/// Find break-ins in flows: hosts that took an SSH login and then spoke IRC, SSH brute force,
/// scans, beacons (a host connecting to one service at regular intervals) and DDoS (many
/// sources against one service within a time bin) and exfiltration (a host sending far more out
/// than it usually does or its peers do). Findings are ranked, highest score first, each with its evidence flows.
///
/// Reads archives, flow-tools files or a flow stream (stdin) like the other tools, twice: once
/// to count, once to collect the evidence (a stream is kept in a temporary file meanwhile).
/// Narrow the flows first with a filter definition (-f FILE -F DEFINITION [-v VAR=VALUE], e.g.
/// to leave out known-good traffic) and suppress lists. docs/hunting.md explains each
/// detector, its thresholds and its score.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Hosts that accepted an SSH session moving real data and then, within a window, opened
    /// connections to IRC ports or to the SSH client on new ports.
    IrcAfterSsh {
        #[command(flatten)]
        ssh: SshArgs,
        /// IRC ports.
        #[arg(long, value_name = "PORTS", default_value = "6660-6669,6697,7000")]
        irc_ports: String,
        /// How long after a session ends a follow-up connection still counts.
        #[arg(long, value_name = "DURATION", default_value = "60m")]
        window: String,
        /// Report IRC only, not connections with the SSH client on new ports.
        #[arg(long)]
        no_new_ports: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Sources with many short SSH connections (per target and overall), one source against
    /// many targets, many sources against one target, and a session after many attempts.
    SshBruteforce {
        #[command(flatten)]
        ssh: SshArgs,
        /// Attempts that make a source a brute-forcer.
        #[arg(long, value_name = "N", default_value_t = 5)]
        min_attempts: u64,
        /// Distinct targets that make a brute-forcer a sprayer (one source against many).
        #[arg(long, value_name = "N", default_value_t = 5)]
        min_targets: usize,
        /// Distinct sources (without a session on it) that make attempts on one target a
        /// distributed attack.
        #[arg(long, value_name = "N", default_value_t = 20)]
        min_sources: usize,
        /// Attempts a source must make on a target to count towards --min-sources.
        #[arg(long, value_name = "N", default_value_t = 2)]
        min_source_attempts: u64,
        /// Attempts on a target before a session from the same source that make it a likely
        /// successful guess.
        #[arg(long, value_name = "N", default_value_t = 3)]
        min_attempts_before_success: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Sources probing many addresses on one port (horizontal) or many ports of one address
    /// (vertical) with flows of few packets, in the spirit of flow-dscan.
    Scan {
        /// A probe is a flow of at most N packets that does not answer (see docs/hunting.md).
        #[arg(long, value_name = "N", default_value_t = 3)]
        max_probe_packets: u64,
        /// Distinct addresses probed on one port that make a horizontal scan.
        #[arg(long, value_name = "N", default_value_t = 50)]
        min_targets: usize,
        /// Distinct ports probed on one address that make a vertical scan.
        #[arg(long, value_name = "N", default_value_t = 50)]
        min_ports: usize,
        /// Drop a horizontal scan when more than this fraction of its targets answered (a
        /// client of a real service, such as a resolver); 1 keeps every one.
        #[arg(long, value_name = "FRACTION", default_value_t = 0.8)]
        max_answered: f64,
        #[command(flatten)]
        common: Common,
    },
    /// A host connecting to one destination address, port and protocol at regular intervals
    /// (malware checking in): median interval and jitter (median absolute deviation of the
    /// intervals / median) per pair.
    Beacon {
        /// Check-ins (connection starts, bursts within --burst folded) a pair needs.
        #[arg(long, value_name = "N", default_value_t = 8)]
        min_connections: usize,
        /// Largest jitter of a beacon: median absolute deviation of the intervals divided by
        /// their median (0 for a clock, about 0.7 for random arrivals).
        #[arg(long, value_name = "FRACTION", default_value_t = 0.1)]
        max_jitter: f64,
        /// Smallest fraction of the intervals within --max-jitter × median of the median.
        #[arg(long, value_name = "FRACTION", default_value_t = 0.75)]
        min_regular: f64,
        /// Shortest median interval reported.
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        min_interval: String,
        /// Longest median interval reported.
        #[arg(long, value_name = "DURATION", default_value = "1d")]
        max_interval: String,
        /// Starts closer than this to the previous check-in of a pair belong to it (0: none).
        #[arg(long, value_name = "DURATION", default_value = "1s")]
        burst: String,
        /// Start times kept per pair (memory: 8 bytes each); a pair with more is judged on
        /// the first ones read.
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        max_starts: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Many sources sending to one destination address and port (or reflected answers from
    /// one source port) within a time bin.
    Ddos {
        /// Length of a time bin.
        #[arg(long, value_name = "DURATION", default_value = "1m")]
        bin: String,
        /// Distinct sources in a bin that make it an attack.
        #[arg(long, value_name = "N", default_value_t = 50)]
        min_sources: usize,
        /// Flows in a bin that make it an attack.
        #[arg(long, value_name = "N", default_value_t = 500)]
        min_flows: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Inside hosts sending far more data out in a time bin than they usually do (their own
    /// median bin) or, when seen in too few bins, than their peers do.
    Exfil {
        /// An inside network (repeatable); default the private ranges 10/8, 172.16/12,
        /// 192.168/16, 100.64/10 and fc00::/7.
        #[arg(long, value_name = "PREFIX")]
        inside: Vec<String>,
        /// Length of a time bin.
        #[arg(long, value_name = "DURATION", default_value = "1h")]
        bin: String,
        /// Outbound octets a bin needs to be reported (k, M, G suffixes: powers of 1000).
        #[arg(long, value_name = "OCTETS", default_value = "100M")]
        min_octets: String,
        /// How many times its baseline a bin must be.
        #[arg(long, value_name = "N", default_value_t = 10.0)]
        factor: f64,
        /// Other bins with outbound traffic a host needs to be judged against itself.
        #[arg(long, value_name = "N", default_value_t = 3)]
        min_history: usize,
        #[command(flatten)]
        common: Common,
    },
}

/// What makes an SSH connection a login attempt or a session that moved real data.
#[derive(Args, Debug)]
struct SshArgs {
    /// SSH server ports.
    #[arg(long, value_name = "PORTS", default_value = "22")]
    ssh_ports: String,
    /// A session moved real data: at least N packets (both directions)...
    #[arg(long, value_name = "N", default_value_t = 40)]
    session_min_packets: u64,
    /// ... and at least N octets (both directions) ...
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    session_min_octets: u64,
    /// ... and lasted at least this long (0 for no minimum).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    session_min_duration: String,
    /// A login attempt has at least N client packets as exported (fewer is a probe, left to
    /// `scan`).
    #[arg(long, value_name = "N", default_value_t = 4)]
    attempt_min_packets: u64,
    /// A login attempt is over within this time.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    attempt_max_duration: String,
}

/// Options every detector takes.
#[derive(Args, Debug)]
struct Common {
    #[command(flatten)]
    filter: FilterArgs,
    /// Ignore flows from this address or prefix, e.g. your own scanner (repeatable).
    #[arg(long, value_name = "PREFIX")]
    suppress_src: Vec<String>,
    /// Ignore flows to this address or prefix (repeatable).
    #[arg(long, value_name = "PREFIX")]
    suppress_dst: Vec<String>,
    /// Suppress list file, lines `src|dst ADDRESS[/LEN] [PROTOCOL|- [SRCPORT|- [DSTPORT|-]]]`.
    #[arg(long, value_name = "FILE")]
    suppress_file: Vec<PathBuf>,
    /// Evidence flows shown per finding (the earliest).
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_evidence: usize,
    /// Findings shown at most (the highest scores): --count N.
    #[command(flatten)]
    count: cli::CountArgs,
    /// Write CSV: one row per evidence flow.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Write one JSON document.
    #[arg(long)]
    json: bool,
    /// Packets and octets as exported: without multiplying sampled flows by their sampling
    /// interval (by default they are, as nfdump does, and a note says so). Biflows' reverse
    /// counts are always included.
    #[arg(long)]
    raw_counts: bool,
    #[command(flatten)]
    input: InputArgs,
}

/// A duration argument in ms; `0` means none.
fn duration_ms(text: &str, what: &str) -> Result<i64, ToolError> {
    if text.trim() == "0" {
        return Ok(0);
    }
    cli::duration_secs(text, what).map(|s| s as i64 * 1000)
}

impl SshArgs {
    fn config(&self, raw_counts: bool) -> Result<SshConfig, ToolError> {
        let cfg = SshConfig {
            ports: PortSet::parse(&self.ssh_ports).map_err(ToolError::usage)?,
            session_min_packets: self.session_min_packets,
            session_min_octets: self.session_min_octets,
            session_min_duration_ms: duration_ms(
                &self.session_min_duration,
                "--session-min-duration",
            )?,
            attempt_min_packets: self.attempt_min_packets,
            attempt_max_duration_ms: duration_ms(
                &self.attempt_max_duration,
                "--attempt-max-duration",
            )?,
            raw_counts,
        };
        cfg.check().map_err(ToolError::usage)?;
        Ok(cfg)
    }
}

impl Common {
    fn suppress(&self) -> Result<Suppress, ToolError> {
        let mut s = Suppress::default();
        for p in &self.suppress_src {
            s.add_src(p).map_err(ToolError::usage)?;
        }
        for p in &self.suppress_dst {
            s.add_dst(p).map_err(ToolError::usage)?;
        }
        for f in &self.suppress_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| ToolError::usage(format!("{}: {e}", f.display())))?;
            s.add_file(&text, &f.display().to_string())
                .map_err(ToolError::usage)?;
        }
        Ok(s)
    }

    fn format(&self) -> HuntFormat {
        if self.csv {
            HuntFormat::Csv
        } else if self.json {
            HuntFormat::Json
        } else {
            HuntFormat::Text
        }
    }
}

/// The detector the command names, with its settings, and the common options.
fn detector(cmd: Command) -> Result<(Box<dyn Detector>, Common), ToolError> {
    Ok(match cmd {
        Command::IrcAfterSsh {
            ssh,
            irc_ports,
            window,
            no_new_ports,
            common,
        } => {
            let cfg = IrcAfterSshConfig {
                ssh: ssh.config(common.raw_counts)?,
                irc_ports: PortSet::parse(&irc_ports).map_err(ToolError::usage)?,
                window_ms: duration_ms(&window, "--window")?,
                new_ports: !no_new_ports,
                max_evidence: common.max_evidence,
            };
            (Box::new(IrcAfterSsh::new(cfg)), common)
        }
        Command::SshBruteforce {
            ssh,
            min_attempts,
            min_targets,
            min_sources,
            min_source_attempts,
            min_attempts_before_success,
            common,
        } => {
            if min_attempts == 0 || min_targets == 0 || min_sources == 0 {
                return Err(ToolError::usage(
                    "--min-attempts, --min-targets and --min-sources must be at least 1",
                ));
            }
            let cfg = BruteForceConfig {
                ssh: ssh.config(common.raw_counts)?,
                min_attempts,
                min_targets,
                min_sources,
                min_source_attempts,
                min_attempts_before_success,
                max_evidence: common.max_evidence,
            };
            (Box::new(SshBruteForce::new(cfg)), common)
        }
        Command::Scan {
            max_probe_packets,
            min_targets,
            min_ports,
            max_answered,
            common,
        } => {
            if min_targets == 0 || min_ports == 0 || max_probe_packets == 0 {
                return Err(ToolError::usage(
                    "--min-targets, --min-ports and --max-probe-packets must be at least 1",
                ));
            }
            if !(0.0..=1.0).contains(&max_answered) {
                return Err(ToolError::usage("--max-answered is a fraction from 0 to 1"));
            }
            let cfg = ScanConfig {
                max_probe_packets,
                min_targets,
                min_ports,
                max_answered,
                max_evidence: common.max_evidence,
                ..ScanConfig::default()
            };
            (Box::new(Scan::new(cfg)), common)
        }
        Command::Beacon {
            min_connections,
            max_jitter,
            min_regular,
            min_interval,
            max_interval,
            burst,
            max_starts,
            common,
        } => {
            let cfg = BeaconConfig {
                min_connections,
                max_jitter,
                min_regular,
                min_interval_ms: duration_ms(&min_interval, "--min-interval")?,
                max_interval_ms: duration_ms(&max_interval, "--max-interval")?,
                burst_ms: duration_ms(&burst, "--burst")?,
                max_starts,
                max_evidence: common.max_evidence,
            };
            cfg.check().map_err(ToolError::usage)?;
            (Box::new(Beacon::new(cfg)), common)
        }
        Command::Ddos {
            bin,
            min_sources,
            min_flows,
            common,
        } => {
            let cfg = DdosConfig {
                bin_ms: duration_ms(&bin, "--bin")?,
                min_sources,
                min_flows,
                max_evidence: common.max_evidence,
                ..DdosConfig::default()
            };
            cfg.check().map_err(ToolError::usage)?;
            (Box::new(Ddos::new(cfg)), common)
        }
        Command::Exfil {
            inside,
            bin,
            min_octets,
            factor,
            min_history,
            common,
        } => {
            let mut cfg = ExfilConfig {
                bin_ms: duration_ms(&bin, "--bin")?,
                min_octets: parse_amount(&min_octets)
                    .map_err(|e| ToolError::usage(format!("--min-octets: {e}")))?,
                factor,
                min_history,
                raw_counts: common.raw_counts,
                max_evidence: common.max_evidence,
                ..ExfilConfig::default()
            };
            if !inside.is_empty() {
                cfg.inside = inside
                    .iter()
                    .map(|p| exfil::parse_inside(p))
                    .collect::<Result<_, _>>()
                    .map_err(ToolError::usage)?;
            }
            cfg.check().map_err(ToolError::usage)?;
            (Box::new(Exfil::new(cfg)), common)
        }
    })
}

fn run(cli: Cli) -> Result<(), ToolError> {
    let (mut det, common) = detector(cli.command)?;
    // Check everything before reading stdin.
    common.input.scan_options().map_err(ToolError::Usage)?;
    common.input.inputs().map_err(ToolError::Usage)?;
    let filter = common.filter.compile(TOOL, common.input.utc)?;
    let mut narrowing = Narrowing::new(filter, common.suppress()?);
    let (input, _spool) = cli::spool_stdin(&common.input)?;

    let wanted = det
        .columns()
        .union(narrowing.columns())
        .union(counts::columns());
    let mut note = CountNote::new(common.raw_counts);
    let stats = cli::Scan::columns(wanted)
        .progress_always()
        .run(TOOL, &input, &mut |batch| {
            for b in batch.blocks {
                narrowing.apply(b, &mut |v| {
                    det.observe(v);
                    note.observe(v);
                });
            }
            Ok(())
        })?;
    det.plan();
    cli::Scan::columns(ColumnSet::ALL)
        .quiet()
        .run(TOOL, &input, &mut |batch| {
            for b in batch.blocks {
                narrowing.apply(b, &mut |v| det.collect(v));
            }
            Ok(())
        })?;
    let mut findings = det.findings();
    hunt::rank(&mut findings);
    if let Some(n) = common.count.count()? {
        findings.truncate(n);
    }

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    output::write(
        &mut out,
        common.format(),
        det.name(),
        &findings,
        &cli::zone(common.input.utc)?,
        &note,
    )
    .map_err(ToolError::Output)?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Cli>(TOOL, run)
}
