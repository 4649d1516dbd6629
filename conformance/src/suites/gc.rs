//! Garbage collection through ownerReferences: background, foreground and orphan
//! propagation, and ownership cycles. The dependents are made by the test itself (pods
//! that stay unscheduled), so only the garbage collector is needed.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{eventually, items, names};
use super::endpoints::pod;
use super::resources::{pod_spec, REPLICASETS};
use super::{Ctx, Test};
use crate::cluster::Component::ControllerManager;

const WAIT: Duration = Duration::from_secs(90);

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("gc", "background", "deleting an owner with propagationPolicy=Background removes its dependents afterwards", |cx| Box::pin(background(cx))).needs(&[ControllerManager]),
        Test::new("gc", "foreground", "deleting an owner with propagationPolicy=Foreground keeps it (deletionTimestamp, foregroundDeletion finalizer) until its blocking dependents are gone", |cx| Box::pin(foreground(cx))).needs(&[ControllerManager]),
        Test::new("gc", "orphan", "deleting an owner with propagationPolicy=Orphan leaves its dependents, without the ownerReference", |cx| Box::pin(orphan(cx))).needs(&[ControllerManager]),
        Test::new("gc", "dependency-cycle", "three pods owning each other in a circle all go when one is deleted", |cx| Box::pin(cycle(cx))).needs(&[ControllerManager]),
        Test::new("gc", "deployment-replicasets", "a Deployment's ReplicaSet goes with it (Background) or stays without its ownerReference (Orphan)", |cx| Box::pin(deployment_replicasets(cx))).needs(&[ControllerManager]),
    ]
}

fn pods(cx: &Ctx) -> String {
    cx.ns_path("", "v1", "pods")
}

fn owner_ref(owner: &Value, block: bool) -> Value {
    json!({"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block})
}

/// An owner (a ReplicationController with no replicas: nothing else makes its pods) and
/// `n` pods owned by it.
async fn owner_with_pods(cx: &Ctx, n: usize, block: bool) -> anyhow::Result<(String, Value)> {
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "owner"},
                    "spec": {"replicas": 0, "selector": {"owned": "no-match"},
                             "template": {"metadata": {"labels": {"owned": "no-match"}}, "spec": pod_spec()}}});
    let rcs = cx.ns_path("", "v1", "replicationcontrollers");
    let owner = cx.api.post(&rcs, &rc).send().await?.expect(201)?;
    for i in 0..n {
        let mut p = pod(&format!("dependent-{i}"), json!({"gc": "dependent"}));
        p["metadata"]["ownerReferences"] = json!([owner_ref(&owner, block)]);
        cx.api.post(pods(cx), &p).send().await?.expect(201)?;
    }
    Ok((format!("{rcs}/owner"), owner))
}

async fn dependents(cx: &Ctx) -> anyhow::Result<Value> {
    cx.api
        .get_json(&format!("{}?labelSelector=gc%3Ddependent", pods(cx)))
        .await
}

async fn background(cx: Ctx) -> anyhow::Result<()> {
    let (path, _) = owner_with_pods(&cx, 2, false).await?;
    cx.api
        .req(
            http::Method::DELETE,
            format!("{path}?propagationPolicy=Background"),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        cx.api.get(&path).send().await?.status == 404,
        "the owner goes at once"
    );
    eventually(WAIT, || async {
        let left = names(&dependents(&cx).await?);
        ensure!(left.is_empty(), "dependents left: {left:?}");
        Ok(())
    })
    .await
}

async fn foreground(cx: Ctx) -> anyhow::Result<()> {
    let (path, _) = owner_with_pods(&cx, 2, true).await?;
    // A finalizer on one dependent holds the foreground deletion open long enough to see.
    let held = format!("{}/dependent-0", pods(&cx));
    cx.api
        .patch(
            &held,
            crate::client::MERGE_PATCH,
            &json!({"metadata": {"finalizers": ["rkube.io/conformance-hold"]}}),
        )
        .send()
        .await?
        .expect(200)?;
    let checks = async {
        cx.api
            .req(
                http::Method::DELETE,
                format!("{path}?propagationPolicy=Foreground"),
            )
            .send()
            .await?
            .expect(200)?;
        let owner = cx
            .api
            .get_json(&path)
            .await
            .context("a foreground-deleted owner stays while dependents remain")?;
        ensure!(
            owner["metadata"]["deletionTimestamp"].is_string()
                && owner["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion")),
            "the owner is marked for foreground deletion: {}",
            owner["metadata"]
        );
        eventually(WAIT, || async {
            let p = cx.api.get_json(&held).await?;
            ensure!(
                p["metadata"]["deletionTimestamp"].is_string(),
                "the held dependent is not being deleted yet"
            );
            Ok(())
        })
        .await
    }
    .await;
    cx.api
        .patch(
            &held,
            crate::client::MERGE_PATCH,
            &json!({"metadata": {"finalizers": null}}),
        )
        .send()
        .await?;
    checks?;
    eventually(WAIT, || async {
        let r = cx.api.get(&path).send().await?;
        ensure!(
            r.status == 404,
            "the owner is still there after its dependents ({})",
            r.status
        );
        ensure!(items(&dependents(&cx).await?).is_empty(), "dependents left");
        Ok(())
    })
    .await
}

async fn orphan(cx: Ctx) -> anyhow::Result<()> {
    let (path, owner) = owner_with_pods(&cx, 2, false).await?;
    cx.api
        .req(
            http::Method::DELETE,
            format!("{path}?propagationPolicy=Orphan"),
        )
        .send()
        .await?
        .expect(200)?;
    let uid = owner["metadata"]["uid"].clone();
    eventually(WAIT, || async {
        let r = cx.api.get(&path).send().await?;
        ensure!(r.status == 404, "the owner is still there ({})", r.status);
        let left = dependents(&cx).await?;
        ensure!(
            items(&left).len() == 2,
            "the dependents stay: {:?}",
            names(&left)
        );
        for p in items(&left) {
            let still_owned = p["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["uid"] == uid);
            ensure!(
                !still_owned,
                "{} still names its deleted owner",
                p["metadata"]["name"]
            );
        }
        Ok(())
    })
    .await
}

async fn cycle(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let mut made = Vec::new();
    for i in 1..=3 {
        made.push(
            api.post(
                pods(&cx),
                &pod(&format!("pod{i}"), json!({"gc": "dependent"})),
            )
            .send()
            .await?
            .expect(201)?,
        );
    }
    // pod1 is owned by pod3, pod2 by pod1, pod3 by pod2.
    for (owned, owner) in [(0usize, 2usize), (1, 0), (2, 1)] {
        let path = format!("{}/pod{}", pods(&cx), owned + 1);
        api.patch(
            &path,
            crate::client::MERGE_PATCH,
            &json!({"metadata": {"ownerReferences": [owner_ref(&made[owner], true)]}}),
        )
        .send()
        .await?
        .expect(200)?;
    }
    api.delete(format!("{}/pod1", pods(&cx)))
        .send()
        .await?
        .expect(200)?;
    eventually(WAIT, || async {
        let left = names(&dependents(&cx).await?);
        ensure!(left.is_empty(), "pods of the cycle left: {left:?}");
        Ok(())
    })
    .await
}

async fn deployment_replicasets(cx: Ctx) -> anyhow::Result<()> {
    let deployments = cx.ns_path("apps", "v1", "deployments");
    for (name, policy) in [("background", "Background"), ("orphan", "Orphan")] {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec()}}});
        cx.api.post(&deployments, &d).send().await?.expect(201)?;
        let selector = format!(
            "{}?labelSelector=app%3D{name}",
            REPLICASETS.collection(&cx.ns)
        );
        eventually(WAIT, || async {
            ensure!(
                items(&cx.api.get_json(&selector).await?).len() == 1,
                "no ReplicaSet for {name} yet"
            );
            Ok(())
        })
        .await?;
        cx.api
            .req(
                http::Method::DELETE,
                format!("{deployments}/{name}?propagationPolicy={policy}"),
            )
            .send()
            .await?
            .expect(200)?;
        eventually(WAIT, || async {
            let sets = cx.api.get_json(&selector).await?;
            if policy == "Background" {
                ensure!(
                    items(&sets).is_empty(),
                    "the ReplicaSet of {name} is still there"
                );
            } else {
                let rs = items(&sets)
                    .first()
                    .context("the orphaned ReplicaSet stays")?;
                ensure!(
                    rs["metadata"]["ownerReferences"]
                        .as_array()
                        .is_none_or(|o| o.is_empty()),
                    "the orphaned ReplicaSet lost its ownerReference: {}",
                    rs["metadata"]
                );
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}
