//! A deployment's status: counts summed over its ReplicaSets, the Available condition,
//! and the Progressing condition with upstream's reasons (NewReplicaSetCreated,
//! FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
//! ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed).

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::replicasets::{available, ready, spec_replicas, status_replicas, sum};
use super::surge;
use crate::queue::SyncError;

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
const REPLICA_FAILURE: &str = "ReplicaFailure";
const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
const TIMED_OUT: &str = "ProgressDeadlineExceeded";
const PAUSED: &str = "DeploymentPaused";

pub fn condition<'a>(
    status: Option<&'a DeploymentStatus>,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
) -> DeploymentCondition {
    let now = Time(Timestamp::now());
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now),
    }
}

/// Upstream's SetDeploymentCondition: same status and reason → unchanged; same status
/// → keep the transition time; otherwise replace.
pub fn set_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = condition_mut(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &condition.type_);
    status
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition);
}

fn condition_mut<'a>(
    status: &'a mut DeploymentStatus,
    type_: &str,
) -> Option<&'a mut DeploymentCondition> {
    status
        .conditions
        .as_mut()?
        .iter_mut()
        .find(|c| c.type_ == type_)
}

pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
    }
}

pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some_and(|s| s != i32::MAX)
}

fn deadline(d: &Deployment) -> Duration {
    let secs = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds);
    Duration::from_secs(secs.unwrap_or(600).max(0) as u64)
}

/// Counts and the Available condition (upstream's calculateStatus).
pub fn calculate(
    d: &Deployment,
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
) -> Result<DeploymentStatus, SyncError> {
    let all = all.iter().copied();
    let available_count = sum(all.clone(), available);
    let total = sum(all.clone(), spec_replicas);
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(sum(all.clone(), status_replicas)),
        updated_replicas: Some(new.map(status_replicas).unwrap_or(0)),
        ready_replicas: Some(sum(all, ready)),
        available_replicas: Some(available_count),
        unavailable_replicas: Some((total - available_count).max(0)),
        collision_count: d.status.as_ref().and_then(|s| s.collision_count),
        conditions: d.status.as_ref().and_then(|s| s.conditions.clone()),
        terminating_replicas: d.status.as_ref().and_then(|s| s.terminating_replicas),
    };
    let condition = if available_count >= surge::replicas(d) - surge::max_unavailable(d)? {
        new_condition(
            AVAILABLE,
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
        )
    } else {
        new_condition(
            AVAILABLE,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
        )
    };
    set_condition(&mut status, condition);
    Ok(status)
}

/// Every replica is updated and available, and the current generation observed.
pub fn complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let want = surge::replicas(d);
    status.updated_replicas == Some(want)
        && status.replicas == Some(want)
        && status.available_replicas == Some(want)
        && status.observed_generation >= d.metadata.generation
}

/// Something moved since the last recorded status.
fn progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// How long until the progress deadline passes (None: not running, or passed).
fn until_deadline(d: &Deployment, status: &DeploymentStatus) -> Option<Duration> {
    if !has_progress_deadline(d) {
        return None;
    }
    let current = condition(Some(status), PROGRESSING)?;
    if matches!(
        current.reason.as_deref(),
        Some(NEW_RS_AVAILABLE) | Some(TIMED_OUT)
    ) {
        return None;
    }
    let from = current.last_update_time.as_ref()?.0;
    let elapsed: Duration = Timestamp::now()
        .duration_since(from)
        .try_into()
        .unwrap_or(Duration::ZERO);
    Some(deadline(d).saturating_sub(elapsed))
}

fn timed_out(d: &Deployment, status: &DeploymentStatus) -> bool {
    let reason = condition(Some(status), PROGRESSING).and_then(|c| c.reason.as_deref());
    reason == Some(TIMED_OUT) || until_deadline(d, status).is_some_and(|left| left.is_zero())
}

/// The status after a rollout step (upstream's syncRolloutStatus), and when to look
/// again for a deadline that has not passed yet.
pub fn rollout(
    d: &Deployment,
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
) -> Result<(DeploymentStatus, Option<Duration>), SyncError> {
    let mut status = calculate(d, all, new)?;
    if !has_progress_deadline(d) {
        remove_condition(&mut status, PROGRESSING);
    }
    let current = condition(d.status.as_ref(), PROGRESSING).cloned();
    let finished = status.replicas == status.updated_replicas
        && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(NEW_RS_AVAILABLE);
    let subject = match new {
        Some(rs) => format!("ReplicaSet {:?}", rs.name_any()),
        None => format!("Deployment {:?}", d.name_any()),
    };
    if has_progress_deadline(d) && !finished {
        if complete(d, &status) {
            let message = format!("{subject} has successfully progressed.");
            set_condition(
                &mut status,
                new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message),
            );
        } else if progressing(d, &status) {
            let mut condition = new_condition(
                PROGRESSING,
                "True",
                "ReplicaSetUpdated",
                format!("{subject} is progressing."),
            );
            // Progress refreshes lastUpdateTime even with the same reason.
            if let Some(current) = &current {
                if current.status == "True" {
                    condition.last_transition_time = current.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
            }
            set_condition(&mut status, condition);
        } else if timed_out(d, &status) {
            let message = format!("{subject} has timed out progressing.");
            set_condition(
                &mut status,
                new_condition(PROGRESSING, "False", TIMED_OUT, message),
            );
        }
    }
    match replica_failure(all, new) {
        Some(failure) => set_condition(&mut status, failure),
        None => remove_condition(&mut status, REPLICA_FAILURE),
    }
    // A rollout that is neither done nor stuck is looked at again at its deadline.
    let recheck = until_deadline(d, &status).map(|left| left + Duration::from_secs(1));
    Ok((status, recheck))
}

/// A ReplicaFailure of the new set (or else of any set), as the deployment's.
fn replica_failure(all: &[&ReplicaSet], new: Option<&ReplicaSet>) -> Option<DeploymentCondition> {
    let failure_of = |rs: &ReplicaSet| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == REPLICA_FAILURE)
            .cloned()
    };
    let found = new
        .and_then(failure_of)
        .or_else(|| all.iter().find_map(|rs| failure_of(rs)))?;
    Some(DeploymentCondition {
        type_: REPLICA_FAILURE.into(),
        status: found.status,
        reason: found.reason,
        message: found.message,
        last_update_time: found.last_transition_time.clone(),
        last_transition_time: found.last_transition_time,
    })
}

/// The Progressing condition for a paused or resumed deployment, if it must change
/// (upstream's checkPausedConditions). A timed-out rollout keeps saying so.
pub fn paused(d: &Deployment) -> Option<DeploymentStatus> {
    if !has_progress_deadline(d) {
        return None;
    }
    let current = condition(d.status.as_ref(), PROGRESSING);
    let reason = current.and_then(|c| c.reason.as_deref());
    if reason == Some(TIMED_OUT) {
        return None;
    }
    let is_paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let condition = match (is_paused, reason == Some(PAUSED)) {
        (true, false) => new_condition(
            PROGRESSING,
            "Unknown",
            PAUSED,
            "Deployment is paused".into(),
        ),
        (false, true) => new_condition(
            PROGRESSING,
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed".into(),
        ),
        _ => return None,
    };
    let mut status = d.status.clone().unwrap_or_default();
    set_condition(&mut status, condition);
    Some(status)
}
