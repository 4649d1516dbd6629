//! A deployment's ReplicaSets: counting them, finding the one for the current template,
//! creating it (named `<deployment>-<pod-template-hash>`, with the next revision),
//! scaling one, and deleting old ones beyond `revisionHistoryLimit`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::ResourceExt;

use super::progress::{self, has_progress_deadline, set_condition};
use super::{annotations, surge, template, Context};
use crate::queue::{api_code, SyncError};
use crate::replicas::pods::owner_reference;

pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map(|s| s.replicas).unwrap_or(0)
}

pub fn ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

/// Available pods, never more than the set is scaled to: right after a scale-down
/// its status still counts the pods being deleted, and trusting that would let a
/// rolling update take down more than maxUnavailable.
pub fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
        .min(spec_replicas(rs))
}

pub fn sum<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>, f: fn(&ReplicaSet) -> i32) -> i32 {
    sets.into_iter().map(f).sum()
}

/// Oldest first (ties by name), upstream's ReplicaSetsByCreationTimestamp.
pub fn sort_oldest_first(sets: &mut [ReplicaSet]) {
    sets.sort_by(|a, b| {
        let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
        created(a)
            .cmp(&created(b))
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
}

/// The deployment's ReplicaSets split into the one running the current template (the
/// oldest such, if several) and the others.
pub fn split(d: &Deployment, mut sets: Vec<ReplicaSet>) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
    sort_oldest_first(&mut sets);
    let Some(spec) = d.spec.as_ref() else {
        return (None, sets);
    };
    let position = sets.iter().position(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| template::equal_ignore_hash(t, &spec.template))
    });
    match position {
        Some(i) => {
            let new = sets.remove(i);
            (Some(new), sets)
        }
        None => (None, sets),
    }
}

/// How many replicas the new ReplicaSet should have now (upstream's NewRSNewReplicas).
pub fn new_replicas(
    d: &Deployment,
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
) -> Result<i32, SyncError> {
    let want = surge::replicas(d);
    let current_new = new.map(spec_replicas).unwrap_or(0);
    if !surge::is_rolling(d) {
        return Ok(want);
    }
    let current = all.iter().map(|rs| spec_replicas(rs)).sum::<i32>();
    let max_total = want + surge::max_surge(d)?;
    if current >= max_total {
        return Ok(current_new);
    }
    let scale_up = (max_total - current).min(want - current_new);
    Ok(current_new + scale_up)
}

/// Find or (with `create`) create the ReplicaSet for the current template, give it the
/// next revision, and record the revision (and the Progressing condition) on the
/// deployment. `d` is updated in place with what the apiserver returned.
pub async fn current(
    ctx: &Context,
    d: &mut Deployment,
    old: &[ReplicaSet],
    existing: Option<ReplicaSet>,
    create: bool,
) -> Result<Option<ReplicaSet>, SyncError> {
    let new_revision = annotations::max_revision(old) + 1;
    if let Some(rs) = existing {
        return update_existing(ctx, d, rs, new_revision).await.map(Some);
    }
    if !create {
        return Ok(None);
    }
    create_new(ctx, d, old, new_revision).await.map(Some)
}

async fn update_existing(
    ctx: &Context,
    d: &mut Deployment,
    mut rs: ReplicaSet,
    new_revision: i64,
) -> Result<ReplicaSet, SyncError> {
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
    let annotated = annotations::set_new_replica_set(d, &mut rs, new_revision, None);
    let spec = rs.spec.get_or_insert_with(Default::default);
    if annotated || spec.min_ready_seconds != min_ready {
        spec.min_ready_seconds = min_ready;
        let api: Api<ReplicaSet> =
            Api::namespaced(ctx.client.clone(), &rs.namespace().unwrap_or_default());
        return Ok(api
            .replace(&rs.name_any(), &PostParams::default(), &rs)
            .await?);
    }
    let revision = annotations::revision(&rs).to_string();
    let mut changed = annotations::set_deployment_revision(d, &revision);
    let no_progress = progress::condition(d.status.as_ref(), progress::PROGRESSING).is_none();
    if has_progress_deadline(d) && no_progress {
        let status = d.status.get_or_insert_with(Default::default);
        set_condition(
            status,
            progress::new_condition(
                progress::PROGRESSING,
                "True",
                "FoundNewReplicaSet",
                format!("Found new replica set {:?}", rs.name_any()),
            ),
        );
        changed = true;
    }
    if changed {
        *d = super::write_status(ctx, d).await?;
    }
    Ok(rs)
}

async fn create_new(
    ctx: &Context,
    d: &mut Deployment,
    old: &[ReplicaSet],
    new_revision: i64,
) -> Result<ReplicaSet, SyncError> {
    let spec = d
        .spec
        .clone()
        .ok_or_else(|| SyncError::Other("spec is missing".into()))?;
    let ns = d.namespace().unwrap_or_default();
    let collisions = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = template::template_hash(&spec.template, collisions);
    let pod_template = template::with_hash_label(&spec.template, &hash);
    let labels = pod_template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone());
    let old_refs: Vec<&ReplicaSet> = old.iter().collect();
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{}-{hash}", d.name_any())),
            namespace: Some(ns.clone()),
            labels,
            owner_references: Some(vec![owner_reference(d)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(new_replicas(d, &old_refs, None)?),
            min_ready_seconds: spec.min_ready_seconds,
            selector: template::selector_with_hash(&spec.selector, &hash),
            template: Some(pod_template),
        }),
        status: None,
    };
    let want = surge::replicas(d);
    let max = want + surge::max_surge(d)?;
    annotations::set_new_replica_set(d, &mut rs, new_revision, Some((want, max)));
    let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
    let created = match api.create(&PostParams::default(), &rs).await {
        Ok(created) => {
            tracing::info!(deployment = %d.name_any(), rs = %created.name_any(), "created new replica set");
            created
        }
        Err(e) if api_code(&e) == Some(409) => {
            return adopt_existing_or_collide(ctx, d, &api, &rs.name_any()).await;
        }
        Err(e) => {
            if has_progress_deadline(d) {
                let status = d.status.get_or_insert_with(Default::default);
                set_condition(
                    status,
                    progress::new_condition(
                        progress::PROGRESSING,
                        "False",
                        "FailedRSCreate",
                        format!("Failed to create new replica set {:?}: {e}", rs.name_any()),
                    ),
                );
                *d = super::write_status(ctx, d).await?;
            }
            return Err(e.into());
        }
    };
    annotations::set_deployment_revision(d, &new_revision.to_string());
    if has_progress_deadline(d) {
        let status = d.status.get_or_insert_with(Default::default);
        set_condition(
            status,
            progress::new_condition(
                progress::PROGRESSING,
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set {:?}", created.name_any()),
            ),
        );
    }
    *d = super::write_status(ctx, d).await?;
    Ok(created)
}

/// A ReplicaSet of that name exists: if it is ours with our template it is the new one
/// (a cache that lagged); otherwise the hash collided, so count a collision (the next
/// sync hashes differently) and fail this sync.
async fn adopt_existing_or_collide(
    ctx: &Context,
    d: &mut Deployment,
    api: &Api<ReplicaSet>,
    name: &str,
) -> Result<ReplicaSet, SyncError> {
    let existing = api.get(name).await?;
    let ours = existing
        .owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && Some(&r.uid) == d.metadata.uid.as_ref());
    let same_template = match (
        existing.spec.as_ref().and_then(|s| s.template.as_ref()),
        d.spec.as_ref(),
    ) {
        (Some(t), Some(spec)) => template::equal_ignore_hash(t, &spec.template),
        _ => false,
    };
    if ours && same_template {
        return Ok(existing);
    }
    let status = d.status.get_or_insert_with(Default::default);
    status.collision_count = Some(status.collision_count.unwrap_or(0).saturating_add(1));
    tracing::info!(deployment = %d.name_any(), rs = name, "hash collision");
    *d = super::write_status(ctx, d).await?;
    Err(SyncError::Other(format!(
        "replica set {name:?} exists with another template: hash collision"
    )))
}

/// Scale a set to `size`, recording the deployment's replica counts on it. Returns the
/// set as written (or unchanged) and whether it was written.
pub async fn scale(
    ctx: &Context,
    d: &Deployment,
    rs: &ReplicaSet,
    size: i32,
) -> Result<(ReplicaSet, bool), SyncError> {
    let want = surge::replicas(d);
    let max = want + surge::max_surge(d)?;
    let mut updated = rs.clone();
    let annotated = annotations::set_replicas(&mut updated, want, max);
    if spec_replicas(rs) == size && !annotated {
        return Ok((updated, false));
    }
    updated.spec.get_or_insert_with(Default::default).replicas = Some(size);
    let api: Api<ReplicaSet> =
        Api::namespaced(ctx.client.clone(), &rs.namespace().unwrap_or_default());
    let written = api
        .replace(&rs.name_any(), &PostParams::default(), &updated)
        .await?;
    if spec_replicas(rs) != size {
        tracing::info!(deployment = %d.name_any(), rs = %rs.name_any(), from = spec_replicas(rs), to = size, "scaled replica set");
    }
    Ok((written, true))
}

/// Delete the oldest fully scaled-down sets beyond `revisionHistoryLimit`.
pub async fn cleanup(ctx: &Context, d: &Deployment, old: &[ReplicaSet]) -> Result<(), SyncError> {
    let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
        return Ok(());
    };
    let mut cleanable: Vec<&ReplicaSet> = old
        .iter()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .collect();
    let surplus = cleanable.len() as i64 - i64::from(limit.max(0));
    if surplus <= 0 {
        return Ok(());
    }
    cleanable.sort_by(|a, b| {
        annotations::revision(a)
            .cmp(&annotations::revision(b))
            .then_with(|| {
                let created =
                    |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
                created(a).cmp(&created(b))
            })
    });
    for rs in cleanable.into_iter().take(surplus as usize) {
        let observed = rs.status.as_ref().and_then(|s| s.observed_generation);
        if status_replicas(rs) != 0 || spec_replicas(rs) != 0 || rs.metadata.generation > observed {
            continue;
        }
        let api: Api<ReplicaSet> =
            Api::namespaced(ctx.client.clone(), &rs.namespace().unwrap_or_default());
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: rs.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&rs.name_any(), &params).await {
            Ok(_) => {
                tracing::info!(deployment = %d.name_any(), rs = %rs.name_any(), "deleted old replica set")
            }
            Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
