//! The rollout strategies and scaling (upstream's rolling.go, recreate.go and sync.go):
//! RollingUpdate adds new pods within maxSurge and removes old ones within
//! maxUnavailable; Recreate removes every old pod before the new set scales up; a
//! change of `replicas` alone (or a paused deployment) scales the sets proportionally.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;

use super::annotations::{int_annotation, DESIRED_REPLICAS, MAX_REPLICAS};
use super::replicasets::{self, available, sort_oldest_first, spec_replicas, status_replicas};
use super::{progress, surge, Context};
use crate::queue::SyncError;

/// One sync's view of a deployment's sets; scaling replaces entries with what the
/// apiserver returned.
pub struct Sets {
    pub new: Option<ReplicaSet>,
    pub old: Vec<ReplicaSet>,
}

impl Sets {
    pub fn all(&self) -> Vec<&ReplicaSet> {
        self.old.iter().chain(self.new.as_ref()).collect()
    }
}

/// What a step did: whether it changed a set (the status is then written and the
/// next event continues the rollout), and when to look again.
pub type Recheck = Option<Duration>;

pub async fn rolling(
    ctx: &Context,
    d: &mut Deployment,
    sets: Vec<ReplicaSet>,
) -> Result<Recheck, SyncError> {
    let (existing, old) = replicasets::split(d, sets);
    let new = replicasets::current(ctx, d, &old, existing, true).await?;
    let mut sets = Sets { new, old };
    if scale_up_new(ctx, d, &mut sets).await? {
        return super::write_rollout_status(ctx, d, &sets).await;
    }
    if scale_down_old(ctx, d, &mut sets).await? {
        return super::write_rollout_status(ctx, d, &sets).await;
    }
    let (status, _) = progress::rollout(d, &sets.all(), sets.new.as_ref())?;
    if progress::complete(d, &status) {
        replicasets::cleanup(ctx, d, &sets.old).await?;
    }
    super::write_rollout_status(ctx, d, &sets).await
}

/// Upstream's reconcileNewReplicaSet.
async fn scale_up_new(ctx: &Context, d: &Deployment, sets: &mut Sets) -> Result<bool, SyncError> {
    let Some(new) = sets.new.clone() else {
        return Ok(false);
    };
    let want = surge::replicas(d);
    let size = match spec_replicas(&new) {
        current if current == want => return Ok(false),
        current if current > want => want,
        _ => replicasets::new_replicas(d, &sets.all(), Some(&new))?,
    };
    let (written, changed) = replicasets::scale(ctx, d, &new, size).await?;
    sets.new = Some(written);
    Ok(changed)
}

/// Upstream's reconcileOldReplicaSets: first old pods that are not available anyway,
/// then available ones, never below `replicas − maxUnavailable` available.
async fn scale_down_old(ctx: &Context, d: &Deployment, sets: &mut Sets) -> Result<bool, SyncError> {
    let old_pods: i32 = sets.old.iter().map(spec_replicas).sum();
    if old_pods == 0 {
        return Ok(false);
    }
    let all_pods: i32 = sets.all().iter().map(|rs| spec_replicas(rs)).sum();
    let min_available = surge::replicas(d) - surge::max_unavailable(d)?;
    let new_unavailable = sets
        .new
        .as_ref()
        .map(|rs| spec_replicas(rs) - available(rs))
        .unwrap_or(0);
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Ok(false);
    }
    sort_oldest_first(&mut sets.old);
    let cleaned = scale_down_unhealthy(ctx, d, sets, max_scaled_down).await?;
    let scaled = scale_down_available(ctx, d, sets, min_available).await?;
    Ok(cleaned + scaled > 0)
}

async fn scale_down_unhealthy(
    ctx: &Context,
    d: &Deployment,
    sets: &mut Sets,
    max: i32,
) -> Result<i32, SyncError> {
    let mut total = 0;
    for i in 0..sets.old.len() {
        if total >= max {
            break;
        }
        let rs = &sets.old[i];
        let unhealthy = spec_replicas(rs) - available(rs);
        if spec_replicas(rs) == 0 || unhealthy <= 0 {
            continue;
        }
        let down = unhealthy.min(max - total);
        let (written, _) = replicasets::scale(ctx, d, rs, spec_replicas(rs) - down).await?;
        sets.old[i] = written;
        total += down;
    }
    Ok(total)
}

async fn scale_down_available(
    ctx: &Context,
    d: &Deployment,
    sets: &mut Sets,
    min_available: i32,
) -> Result<i32, SyncError> {
    let available_pods: i32 = sets.all().iter().map(|rs| available(rs)).sum();
    if available_pods <= min_available {
        return Ok(0);
    }
    let wanted = available_pods - min_available;
    let mut total = 0;
    for i in 0..sets.old.len() {
        if total >= wanted {
            break;
        }
        let rs = &sets.old[i];
        if spec_replicas(rs) == 0 {
            continue;
        }
        let down = spec_replicas(rs).min(wanted - total);
        let (written, _) = replicasets::scale(ctx, d, rs, spec_replicas(rs) - down).await?;
        sets.old[i] = written;
        total += down;
    }
    Ok(total)
}

pub async fn recreate(
    ctx: &Context,
    d: &mut Deployment,
    sets: Vec<ReplicaSet>,
) -> Result<Recheck, SyncError> {
    let (existing, old) = replicasets::split(d, sets);
    let new = replicasets::current(ctx, d, &old, existing, false).await?;
    let mut sets = Sets { new, old };
    let mut scaled_down = false;
    for i in 0..sets.old.len() {
        if spec_replicas(&sets.old[i]) == 0 {
            continue;
        }
        let (written, changed) = replicasets::scale(ctx, d, &sets.old[i], 0).await?;
        sets.old[i] = written;
        scaled_down |= changed;
    }
    if scaled_down || old_pods_running(ctx, &sets) {
        return super::write_rollout_status(ctx, d, &sets).await;
    }
    if sets.new.is_none() {
        let old = std::mem::take(&mut sets.old);
        sets.new = replicasets::current(ctx, d, &old, None, true).await?;
        sets.old = old;
    }
    if let Some(new) = sets.new.clone() {
        let (written, _) = replicasets::scale(ctx, d, &new, surge::replicas(d)).await?;
        sets.new = Some(written);
    }
    let (status, _) = progress::rollout(d, &sets.all(), sets.new.as_ref())?;
    if progress::complete(d, &status) {
        replicasets::cleanup(ctx, d, &sets.old).await?;
    }
    super::write_rollout_status(ctx, d, &sets).await
}

/// Whether any pod of an old set still exists and has not finished.
fn old_pods_running(ctx: &Context, sets: &Sets) -> bool {
    if sets.old.iter().any(|rs| status_replicas(rs) > 0) {
        return true;
    }
    let old_uids: Vec<&str> = sets
        .old
        .iter()
        .filter_map(|rs| rs.metadata.uid.as_deref())
        .collect();
    ctx.pods
        .find(|pod| {
            let owned = pod
                .owner_references()
                .iter()
                .any(|r| r.controller == Some(true) && old_uids.contains(&r.uid.as_str()));
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
            owned && !matches!(phase, Some("Succeeded") | Some("Failed"))
        })
        .is_some()
}

/// A scaling event or a paused deployment: scale the sets (no new set), then record
/// status (upstream's sync).
pub async fn scale_only(
    ctx: &Context,
    d: &mut Deployment,
    sets: Vec<ReplicaSet>,
) -> Result<Recheck, SyncError> {
    let (existing, old) = replicasets::split(d, sets);
    let new = replicasets::current(ctx, d, &old, existing, false).await?;
    let mut sets = Sets { new, old };
    scale(ctx, d, &mut sets).await?;
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        replicasets::cleanup(ctx, d, &sets.old).await?;
    }
    let status = progress::calculate(d, &sets.all(), sets.new.as_ref())?;
    super::write_status_if_changed(ctx, d, status).await?;
    Ok(None)
}

/// Whether an active set was scaled for another `replicas` than the deployment's now.
pub fn is_scaling_event(d: &Deployment, sets: &[ReplicaSet]) -> bool {
    let want = surge::replicas(d);
    sets.iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .any(|rs| int_annotation(rs, DESIRED_REPLICAS).is_some_and(|desired| desired != want))
}

/// Upstream's scale: one active set takes all replicas; a saturated new set ends the
/// old ones; otherwise replicas are added or removed in proportion to set sizes.
async fn scale(ctx: &Context, d: &Deployment, sets: &mut Sets) -> Result<(), SyncError> {
    let want = surge::replicas(d);
    if let Some(target) = active_or_latest(sets) {
        let rs = match target {
            Target::New => sets.new.clone(),
            Target::Old(i) => Some(sets.old[i].clone()),
        };
        if let Some(rs) = rs.filter(|rs| spec_replicas(rs) != want) {
            let (written, _) = replicasets::scale(ctx, d, &rs, want).await?;
            match target {
                Target::New => sets.new = Some(written),
                Target::Old(i) => sets.old[i] = written,
            }
        }
        return Ok(());
    }
    if sets.new.as_ref().is_some_and(|rs| saturated(d, rs)) {
        for i in 0..sets.old.len() {
            if spec_replicas(&sets.old[i]) > 0 {
                let (written, _) = replicasets::scale(ctx, d, &sets.old[i], 0).await?;
                sets.old[i] = written;
            }
        }
        return Ok(());
    }
    if surge::is_rolling(d) {
        scale_proportionally(ctx, d, sets).await?;
    }
    Ok(())
}

enum Target {
    New,
    Old(usize),
}

/// The only active set, or (none active) the new or newest set; None with several.
fn active_or_latest(sets: &Sets) -> Option<Target> {
    let active_old: Vec<usize> = (0..sets.old.len())
        .filter(|&i| spec_replicas(&sets.old[i]) > 0)
        .collect();
    let new_active = sets.new.as_ref().is_some_and(|rs| spec_replicas(rs) > 0);
    match (new_active, active_old.len()) {
        (true, 0) => Some(Target::New),
        (false, 1) => Some(Target::Old(active_old[0])),
        (false, 0) if sets.new.is_some() => Some(Target::New),
        (false, 0) => {
            let newest = (0..sets.old.len()).max_by_key(|&i| {
                sets.old[i]
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0)
            });
            newest.map(Target::Old)
        }
        _ => None,
    }
}

fn saturated(d: &Deployment, rs: &ReplicaSet) -> bool {
    let want = surge::replicas(d);
    int_annotation(rs, DESIRED_REPLICAS) == Some(want)
        && spec_replicas(rs) == want
        && rs.status.as_ref().and_then(|s| s.available_replicas) == Some(want)
}

/// Spread a change of the deployment's size over its active sets in proportion to
/// their size (upstream's GetProportion), the rounding leftover to the largest.
async fn scale_proportionally(
    ctx: &Context,
    d: &Deployment,
    sets: &mut Sets,
) -> Result<(), SyncError> {
    let want = surge::replicas(d);
    let surge_now = surge::max_surge(d)?;
    let mut active: Vec<ReplicaSet> = sets
        .all()
        .into_iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .cloned()
        .collect();
    let current: i32 = active.iter().map(spec_replicas).sum();
    let allowed = if want > 0 { want + surge_now } else { 0 };
    let to_add = allowed - current;
    let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if to_add > 0 {
        // Larger first, newer first among equals.
        active.sort_by(|a, b| {
            spec_replicas(b)
                .cmp(&spec_replicas(a))
                .then_with(|| created(b).cmp(&created(a)))
        });
    } else if to_add < 0 {
        // Larger first, older first among equals.
        active.sort_by(|a, b| {
            spec_replicas(b)
                .cmp(&spec_replicas(a))
                .then_with(|| created(a).cmp(&created(b)))
        });
    }
    let mut sizes: Vec<i32> = active.iter().map(spec_replicas).collect();
    if to_add != 0 {
        let mut added = 0;
        for (i, rs) in active.iter().enumerate() {
            let share = proportion(d, rs, to_add, added, want + surge_now);
            sizes[i] += share;
            added += share;
        }
        if let Some(first) = sizes.first_mut() {
            *first = (*first + to_add - added).max(0);
        }
    }
    let mut written: HashMap<String, ReplicaSet> = HashMap::new();
    for (rs, size) in active.iter().zip(sizes) {
        let (rs, _) = replicasets::scale(ctx, d, rs, size).await?;
        written.insert(rs.name_any(), rs);
    }
    for rs in sets.old.iter_mut().chain(sets.new.as_mut()) {
        if let Some(w) = written.remove(&rs.name_any()) {
            *rs = w;
        }
    }
    Ok(())
}

/// This set's share of `to_add` (negative to remove), bounded by what is left.
fn proportion(
    d: &Deployment,
    rs: &ReplicaSet,
    to_add: i32,
    added: i32,
    deployment_max: i32,
) -> i32 {
    if spec_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if surge::replicas(d) == 0 {
        -spec_replicas(rs)
    } else {
        let annotated = int_annotation(rs, MAX_REPLICAS)
            .filter(|m| *m > 0)
            .or_else(|| {
                d.status
                    .as_ref()
                    .and_then(|s| s.replicas)
                    .filter(|r| *r > 0)
            });
        match annotated {
            Some(annotated) => {
                let size =
                    f64::from(spec_replicas(rs)) * f64::from(deployment_max) / f64::from(annotated);
                size.round() as i32 - spec_replicas(rs)
            }
            None => 0,
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}
