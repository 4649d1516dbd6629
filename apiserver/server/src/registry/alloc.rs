//! ClusterIP and NodePort allocation for Services: never the same address or port
//! twice, also under concurrent creates. The in-memory sets are rebuilt from the stored
//! Services at start, so allocations survive restarts with the Services that hold them.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use parking_lot::Mutex;
use rkube_api::{ApiError, Cause, Resource};
use serde_json::{json, Value};

use crate::flags::Cidr;

pub struct ServiceAllocator {
    cidr: Cidr,
    ports: (u16, u16),
    used: Mutex<Used>,
}

#[derive(Default)]
struct Used {
    ips: BTreeSet<u32>,
    ports: BTreeSet<u16>,
}

/// What a write allocated; released again unless the write is kept.
#[must_use]
#[derive(Debug)]
pub struct Allocation {
    ips: Vec<u32>,
    ports: Vec<u16>,
}

impl Allocation {
    fn none() -> Allocation {
        Allocation {
            ips: Vec::new(),
            ports: Vec::new(),
        }
    }

    pub fn keep(self) {}

    pub fn release_now(self, alloc: &ServiceAllocator) {
        let mut used = alloc.used.lock();
        for ip in self.ips {
            used.ips.remove(&ip);
        }
        for p in self.ports {
            used.ports.remove(&p);
        }
    }
}

fn invalid(field: &str, message: String) -> ApiError {
    ApiError::invalid(
        "",
        "Service",
        "",
        vec![Cause::new("FieldValueInvalid", message, field)],
    )
}

fn service_ports(svc: &Value) -> impl Iterator<Item = u16> + '_ {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter_map(|p| u16::try_from(p).ok())
}

fn service_ip(svc: &Value) -> Option<Ipv4Addr> {
    svc.pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn wants_node_ports(svc: &Value) -> bool {
    matches!(
        svc.pointer("/spec/type").and_then(Value::as_str),
        Some("NodePort" | "LoadBalancer")
    )
}

impl ServiceAllocator {
    pub fn new(cidr: Cidr, ports: (u16, u16)) -> ServiceAllocator {
        ServiceAllocator {
            cidr,
            ports,
            used: Mutex::new(Used::default()),
        }
    }

    /// The first address of the range, reserved for the `kubernetes` Service.
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.cidr.base + 1)
    }

    /// Mark what a stored Service holds (start-up).
    pub fn record(&self, svc: &Value) {
        let mut used = self.used.lock();
        if let Some(ip) = service_ip(svc) {
            used.ips.insert(u32::from(ip));
        }
        for p in service_ports(svc) {
            used.ports.insert(p);
        }
    }

    pub fn release_service(&self, svc: &Value) {
        let mut used = self.used.lock();
        if let Some(ip) = service_ip(svc) {
            used.ips.remove(&u32::from(ip));
        }
        for p in service_ports(svc) {
            used.ports.remove(&p);
        }
    }

    fn in_range(&self, ip: Ipv4Addr) -> bool {
        let v = u32::from(ip);
        v > self.cidr.base && v < self.cidr.base + self.cidr.size() - 1
    }

    fn pick_ip(&self, used: &Used) -> Option<u32> {
        let size = self.cidr.size();
        // Upstream picks at random; offsets 2.. keep .1 for the `kubernetes` Service.
        let start = rand::random::<u32>() % (size - 3);
        (0..size - 3)
            .map(|i| self.cidr.base + 2 + (start + i) % (size - 3))
            .find(|ip| !used.ips.contains(ip))
    }

    fn pick_port(&self, used: &Used) -> Option<u16> {
        let (lo, hi) = self.ports;
        let n = u32::from(hi - lo) + 1;
        let start = rand::random::<u32>() % n;
        (0..n)
            .map(|i| lo + ((start + i) % n) as u16)
            .find(|p| !used.ports.contains(p))
    }

    /// Allocate what a Service create or update needs. `old` is the stored Service on
    /// update; what it held stays allocated, what the new one drops is released.
    pub fn allocate_for(
        &self,
        r: &Resource,
        svc: &mut Value,
        old: Option<&Value>,
    ) -> Result<Allocation, ApiError> {
        if r.plural != "services" || !r.group.is_empty() {
            return Ok(Allocation::none());
        }
        let mut used = self.used.lock();
        let mut alloc = Allocation::none();
        let result = self.allocate_locked(&mut used, svc, old, &mut alloc);
        if let Err(e) = result {
            drop(used);
            alloc.release_now(self);
            return Err(e);
        }
        if let Some(old) = old {
            if let Some(ip) = service_ip(old) {
                if service_ip(svc) != Some(ip) {
                    used.ips.remove(&u32::from(ip));
                }
            }
            let keep: BTreeSet<u16> = service_ports(svc).collect();
            for p in service_ports(old) {
                if !keep.contains(&p) {
                    used.ports.remove(&p);
                }
            }
        }
        Ok(alloc)
    }

    fn allocate_locked(
        &self,
        used: &mut Used,
        svc: &mut Value,
        old: Option<&Value>,
        alloc: &mut Allocation,
    ) -> Result<(), ApiError> {
        let svc_type = svc
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        if svc_type != "ExternalName" {
            let old_ip = old.and_then(service_ip);
            let requested = svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if requested == "None" {
                svc["spec"]["clusterIPs"] = json!(["None"]);
            } else if requested.is_empty() {
                let ip = match old_ip {
                    Some(ip) => u32::from(ip),
                    None => {
                        let ip = self.pick_ip(used).ok_or_else(|| {
                            ApiError::internal("failed to allocate a serviceIP: range is full")
                        })?;
                        used.ips.insert(ip);
                        alloc.ips.push(ip);
                        ip
                    }
                };
                let ip = Ipv4Addr::from(ip).to_string();
                svc["spec"]["clusterIP"] = json!(ip);
                svc["spec"]["clusterIPs"] = json!([ip]);
            } else {
                let ip: Ipv4Addr = requested.parse().map_err(|_| {
                    invalid("spec.clusterIPs[0]", format!("spec.clusterIPs[0]: Invalid value: \"{requested}\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
                })?;
                if old_ip != Some(ip) {
                    if !self.in_range(ip) {
                        return Err(invalid("spec.clusterIPs", format!(
                            "spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}/{}",
                            Ipv4Addr::from(self.cidr.base), self.cidr.prefix
                        )));
                    }
                    if !used.ips.insert(u32::from(ip)) {
                        return Err(invalid("spec.clusterIPs", format!(
                            "spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated"
                        )));
                    }
                    alloc.ips.push(u32::from(ip));
                }
                svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
            }
        }
        let old_ports: BTreeSet<u16> = old.map(|o| service_ports(o).collect()).unwrap_or_default();
        let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        let node_ports = wants_node_ports(&Value::Object(
            [("spec".to_string(), json!({"type": svc_type}))]
                .into_iter()
                .collect(),
        ));
        for (i, port) in ports.iter_mut().enumerate() {
            if !node_ports {
                if let Some(p) = port.as_object_mut() {
                    p.remove("nodePort");
                }
                continue;
            }
            match port.get("nodePort").and_then(Value::as_u64) {
                None | Some(0) => {
                    let p = self.pick_port(used).ok_or_else(|| {
                        ApiError::internal("failed to allocate a nodePort: range is full")
                    })?;
                    used.ports.insert(p);
                    alloc.ports.push(p);
                    port["nodePort"] = json!(p);
                }
                Some(p) => {
                    let field = format!("spec.ports[{i}].nodePort");
                    let p16 = u16::try_from(p).ok().filter(|p| (self.ports.0..=self.ports.1).contains(p)).ok_or_else(|| {
                        invalid(&field, format!(
                            "{field}: Invalid value: {p}: provided port is not in the valid range. The range of valid ports is {}-{}",
                            self.ports.0, self.ports.1
                        ))
                    })?;
                    if old_ports.contains(&p16) {
                        continue;
                    }
                    if !used.ports.insert(p16) {
                        return Err(invalid(
                            &field,
                            format!(
                                "{field}: Invalid value: {p}: provided port is already allocated"
                            ),
                        ));
                    }
                    alloc.ports.push(p16);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> &'static Resource {
        rkube_api::resources::find("", "v1", "services").unwrap()
    }

    #[test]
    fn never_twice() {
        let a = ServiceAllocator::new(Cidr::parse("10.0.0.0/29").unwrap(), (30000, 30001));
        let mut seen = BTreeSet::new();
        for _ in 0..5 {
            let mut svc = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
            a.allocate_for(services(), &mut svc, None).unwrap().keep();
            assert!(seen.insert(svc["spec"]["clusterIP"].as_str().unwrap().to_string()));
        }
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        assert!(
            a.allocate_for(services(), &mut svc, None).is_err(),
            "range of 5 usable is full"
        );
        let mut np = json!({"spec": {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}, {"port": 81}]}});
        a.allocate_for(services(), &mut np, None).unwrap().keep();
        let mut np2 = json!({"spec": {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80, "nodePort": 30000}]}});
        let e = a.allocate_for(services(), &mut np2, None).unwrap_err();
        assert!(e.message.contains("already allocated"), "{}", e.message);
    }
}
