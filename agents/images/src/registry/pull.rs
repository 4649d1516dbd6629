//! `ImageStore::pull`: manifest (through indexes, for this platform), config and layers
//! from a registry into the store, every document and blob verified against its digest.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;

use super::auth::RegistryAuth;
use super::client::{read_small, RegistryClient};
use crate::digest::Digest;
use crate::oci::{self, Descriptor, Document};
use crate::reference::Reference;
use crate::store::ImageStore;
use crate::{Image, ImageError};

/// A blob download that sends nothing for this long has stalled.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Blobs downloaded at once per pull (Docker's default is 3).
const PARALLEL_DOWNLOADS: usize = 3;

impl ImageStore {
    /// Pulls `reference` (normalized like Docker) unless its content is already here,
    /// resolving manifest lists / indexes for this platform. Loopback registries and
    /// those in `insecure_registries` are spoken to over plain HTTP, others over HTTPS
    /// (system roots plus `<root-dir>/images/certs.d/<host>/*.crt`).
    pub async fn pull(
        &self,
        reference: &str,
        auth: &RegistryAuth,
        insecure_registries: &[String],
    ) -> Result<Image, ImageError> {
        let parsed = Reference::parse(reference)?;
        let gate = {
            let mut pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
            pulls.entry(parsed.to_string()).or_default().clone()
        };
        let _one_at_a_time = gate.lock().await;
        let mut client = RegistryClient::new(
            &parsed,
            auth,
            insecure_registries,
            &self.dir().join("certs.d"),
        )?;
        let (top, mut document) = self
            .fetch_manifest(
                &mut client,
                &parsed.manifest_reference(),
                parsed.digest.as_ref(),
            )
            .await?;
        let mut digest = top.clone();
        let manifest = loop {
            match Document::parse(&document, &format!("manifest {digest}"))? {
                Document::Manifest(m) => break m,
                Document::Index(index) => {
                    if digest != top {
                        return Err(ImageError::malformed(
                            format!("index {top}"),
                            "nested indexes",
                        ));
                    }
                    let entry = oci::select_platform(&index, &self.platform).ok_or_else(|| {
                        ImageError::NoMatchingPlatform {
                            platform: format!(
                                "{}/{}",
                                self.platform.os, self.platform.architecture
                            ),
                            digest: top.to_string(),
                        }
                    })?;
                    let wanted = entry.digest()?;
                    (digest, document) = self
                        .fetch_manifest(&mut client, wanted.as_str(), Some(&wanted))
                        .await?;
                }
            }
        };
        self.fetch_missing_blobs(&client, &manifest).await?;
        let mut references = vec![parsed.to_string()];
        let pinned = parsed.with_digest(&top).to_string();
        if !references.contains(&pinned) {
            references.push(pinned);
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.commit_image(&digest, &references))
            .await
            .expect("image commit task panicked")
    }

    /// Downloads the config and layers not yet here, a few at a time. The first failure
    /// cancels the others (dropping the set aborts them; their partial files go away).
    async fn fetch_missing_blobs(
        &self,
        client: &RegistryClient,
        manifest: &oci::Manifest,
    ) -> Result<(), ImageError> {
        let mut missing: Vec<Descriptor> = Vec::new();
        for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
            let digest = descriptor.digest()?;
            if !self.blobs.contains(&digest)
                && !missing.iter().any(|d| d.digest == descriptor.digest)
            {
                missing.push(descriptor.clone());
            }
        }
        let mut queue = missing.into_iter();
        let mut downloads = tokio::task::JoinSet::new();
        loop {
            while downloads.len() < PARALLEL_DOWNLOADS {
                let Some(descriptor) = queue.next() else {
                    break;
                };
                let (store, mut client) = (self.clone(), client.clone());
                downloads.spawn(async move { store.fetch_blob(&mut client, &descriptor).await });
            }
            match downloads.join_next().await {
                Some(result) => result.expect("blob download task panicked")?,
                None => return Ok(()),
            }
        }
    }

    /// Fetches and stores a manifest or index; returns its digest and bytes. By digest,
    /// the content must hash to it; by tag, to the registry's Docker-Content-Digest.
    async fn fetch_manifest(
        &self,
        client: &mut RegistryClient,
        reference: &str,
        expected: Option<&Digest>,
    ) -> Result<(Digest, Bytes), ImageError> {
        let response = client
            .get(&format!("manifests/{reference}"), &oci::ACCEPTED_MANIFESTS)
            .await?;
        let status = response.status();
        let announced = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok());
        let body = read_small(response, oci::MAX_DOCUMENT_BYTES)
            .await
            .map_err(|e| client.registry_error(format!("manifest {reference}: {e}")))?;
        if status == StatusCode::NOT_FOUND {
            return Err(ImageError::NotFound(format!(
                "{}/{}:{reference} (manifest unknown to the registry)",
                client.registry(),
                client.repository()
            )));
        }
        if !status.is_success() {
            return Err(client.registry_error(format!(
                "manifest {reference}: HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            )));
        }
        let actual = Digest::of(&body);
        if let Some(expected) = expected.or(announced.as_ref()) {
            expected.verify(&actual, &format!("manifest {reference}"))?;
        }
        let blobs = self.blobs.clone();
        let (digest, bytes) = (actual.clone(), body.clone());
        tokio::task::spawn_blocking(move || blobs.write_bytes(&digest, &bytes))
            .await
            .expect("manifest write task panicked")?;
        Ok((actual, body))
    }

    /// Streams a blob into the store; it is kept only if it hashes to its descriptor's
    /// digest and has its size.
    async fn fetch_blob(
        &self,
        client: &mut RegistryClient,
        descriptor: &Descriptor,
    ) -> Result<(), ImageError> {
        let digest = descriptor.digest()?;
        let response = client.get(&format!("blobs/{digest}"), &[]).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(client.registry_error(format!("blob {digest}: HTTP {status}")));
        }
        let writer = self.blobs.writer()?;
        // Disk writes happen on a blocking thread; `None` marks a complete body, so a
        // download that stops early is never committed.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Option<Bytes>>(16);
        let (expected, size) = (digest.clone(), descriptor.size);
        let write = tokio::task::spawn_blocking(move || {
            let mut writer = writer;
            while let Some(message) = rx.blocking_recv() {
                match message {
                    Some(chunk) => writer
                        .write_all(&chunk)
                        .map_err(ImageError::io("write blob", expected.to_string()))?,
                    None => return writer.commit(Some(&expected), Some(size)).map(|_| ()),
                }
            }
            Err(ImageError::malformed(
                format!("blob {expected}"),
                "download interrupted",
            ))
        });
        let mut body = response.into_body();
        let mut received = 0u64;
        let outcome: Result<(), ImageError> = async {
            loop {
                let frame = tokio::time::timeout(IDLE_TIMEOUT, body.frame())
                    .await
                    .map_err(|_| {
                        client
                            .registry_error(format!("blob {digest}: stalled for {IDLE_TIMEOUT:?}"))
                    })?;
                let Some(frame) = frame else { break };
                let frame =
                    frame.map_err(|e| client.registry_error(format!("blob {digest}: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    received += data.len() as u64;
                    if received > descriptor.size {
                        return Err(ImageError::SizeMismatch {
                            digest: digest.to_string(),
                            expected: descriptor.size,
                            actual: received,
                        });
                    }
                    if tx.send(Some(data)).await.is_err() {
                        return Ok(()); // the writer failed: its error is reported below
                    }
                }
            }
            let _ = tx.send(None).await;
            Ok(())
        }
        .await;
        drop(tx);
        let written = write.await.expect("blob write task panicked");
        outcome.and(written)
    }
}
