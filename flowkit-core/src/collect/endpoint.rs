//! flow-tools' `localip/remoteip/port` arguments (flow-capture, flow-fanout): `0` for an address
//! means any.

use std::net::IpAddr;

/// One `localip/remoteip/port` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The local address (`None`: any).
    pub local: Option<IpAddr>,
    /// The remote address (`None`: any).
    pub remote: Option<IpAddr>,
    /// The UDP port.
    pub port: u16,
}

impl std::str::FromStr for Endpoint {
    type Err = String;

    /// Parses `localip/remoteip/port`, e.g. `0/0/2055`, `127.0.0.1/10.0.0.5/9995`,
    /// `::1/0/2055`.
    fn from_str(s: &str) -> Result<Endpoint, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let [local, remote, port] = parts[..] else {
            return Err(format!(
                "{s:?}: expected localip/remoteip/port, as flow-tools' 0/0/2055 (0: any address)"
            ));
        };
        let addr = |what: &str, a: &str| -> Result<Option<IpAddr>, String> {
            if a == "0" || a.is_empty() {
                return Ok(None);
            }
            a.parse()
                .map(Some)
                .map_err(|_| format!("{s:?}: {what} {a:?} is not an address (0 for any)"))
        };
        Ok(Endpoint {
            local: addr("local address", local)?,
            remote: addr("remote address", remote)?,
            port: port
                .parse()
                .map_err(|_| format!("{s:?}: port {port:?} is not 0-65535"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_tools_forms() {
        let e: Endpoint = "0/0/2055".parse().unwrap();
        assert_eq!(
            e,
            Endpoint {
                local: None,
                remote: None,
                port: 2055
            }
        );
        let e: Endpoint = "127.0.0.1/10.0.0.5/9995".parse().unwrap();
        assert_eq!(e.local, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(e.remote, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(e.port, 9995);
        let e: Endpoint = "::1/2001:db8::7/0".parse().unwrap();
        assert_eq!(e.remote, Some("2001:db8::7".parse().unwrap()));
        for bad in [
            "2055",
            "0/0",
            "0/0/70000",
            "0/host/2055",
            "a/0/1",
            "0/0/2055/1",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }
}
