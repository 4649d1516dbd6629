//! `rkube images`: the node's image store from the command line (what `ctr images` /
//! `crictl images` are to containerd), on the same `--root-dir` as the kubelet.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::reference::Reference;
use crate::{Image, ImageError, ImageStore, RegistryAuth};

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// The kubelet's root directory; images live in `<root-dir>/images`.
    #[arg(long, default_value = "/var/lib/kubelet", global = true)]
    pub root_dir: PathBuf,
    #[command(subcommand)]
    pub command: ImagesCommand,
}

#[derive(Subcommand, Debug)]
pub enum ImagesCommand {
    /// Load the images of an OCI layout tar or a `docker save` tar (plain or gzip).
    Import {
        /// The archive (e.g. from `skopeo copy … oci-archive:FILE:name:tag` or `docker save`);
        /// `-` reads it from standard input.
        file: PathBuf,
    },
    /// Pull an image from a registry (distribution API v2) unless it is already here.
    Pull {
        /// `busybox:1.36`, `localhost:5000/app@sha256:…` (normalized like Docker).
        reference: String,
        /// Speak plain HTTP to this registry (`host:port`, `host` or a CIDR; repeatable).
        /// Registries on loopback always are.
        #[arg(long = "insecure-registry")]
        insecure_registries: Vec<String>,
        /// Credentials for the image's registry: `USERNAME[:PASSWORD]`.
        #[arg(long)]
        creds: Option<String>,
        /// A docker config (`{"auths": …}`, as in a dockerconfigjson pull secret, or the
        /// older dockercfg form) to take credentials from.
        #[arg(long)]
        auth_file: Option<PathBuf>,
    },
    /// List the images in the store.
    Ls {
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print an image as JSON, with its unpacked layer directories (bottom first).
    Inspect {
        /// A reference (`busybox:1.36`) or manifest digest (`sha256:…`).
        reference: String,
    },
    /// Garbage-collect: free BYTES by removing the least recently used images not in use
    /// (and leftovers of interrupted pulls and imports), as the kubelet does under disk
    /// pressure.
    Gc {
        /// How many bytes to free (0: only leftovers).
        #[arg(long = "free")]
        bytes_to_free: u64,
        /// An image to keep, by reference or digest (repeatable).
        #[arg(long = "in-use")]
        in_use: Vec<String>,
        /// Keep images used or pulled less than this many seconds ago.
        #[arg(long, default_value_t = 120)]
        min_age_seconds: u64,
    },
    /// Give an image another name (`rkube images tag busybox:1.36 registry.local/busybox:1`).
    Tag {
        /// The image: a reference or manifest digest.
        source: String,
        /// The new reference.
        target: String,
    },
    /// Remove an image (all its references) and the layers no other image uses.
    Rm {
        /// A reference (`busybox:1.36`) or manifest digest (`sha256:…`).
        reference: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

pub async fn run(args: ImagesArgs) -> Result<(), ImageError> {
    let store = ImageStore::open(&args.root_dir)?;
    match args.command {
        ImagesCommand::Import { file } => {
            let images = tokio::task::spawn_blocking(move || {
                if file.as_os_str() == "-" {
                    store.import_from(std::io::stdin().lock(), "standard input")
                } else {
                    store.import(&file)
                }
            })
            .await
            .expect("import task panicked")?;
            for image in images {
                println!("imported {} {}", names(&image), image.digest);
            }
        }
        ImagesCommand::Pull {
            reference,
            insecure_registries,
            creds,
            auth_file,
        } => {
            let auth = registry_auth(&reference, creds.as_deref(), auth_file.as_deref())?;
            let image = store.pull(&reference, &auth, &insecure_registries).await?;
            println!("pulled {} {}", names(&image), image.digest);
        }
        ImagesCommand::Ls { output } => {
            let images = store.list()?;
            match output {
                Output::Table => print_table(&images),
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&images)).expect("json")
                ),
            }
        }
        ImagesCommand::Inspect { reference } => {
            let image = store
                .lookup(&reference)?
                .ok_or(ImageError::NotFound(reference))?;
            let mut json = image_json(&image);
            json["layers"] = serde_json::json!(store.layer_dirs(&image)?);
            println!("{}", serde_json::to_string_pretty(&json).expect("json"));
        }
        ImagesCommand::Gc {
            bytes_to_free,
            in_use,
            min_age_seconds,
        } => {
            let report = store.garbage_collect(
                &in_use,
                bytes_to_free,
                std::time::Duration::from_secs(min_age_seconds),
            )?;
            for image in &report.removed {
                println!("removed {} {}", names(image), image.digest);
            }
            println!("freed {} bytes", report.bytes_freed);
        }
        ImagesCommand::Tag { source, target } => {
            let image = store.lookup(&source)?.ok_or(ImageError::NotFound(source))?;
            store.tag(&image, &target)?;
            let tagged = store.lookup(&target)?.ok_or(ImageError::NotFound(target))?;
            println!("tagged {} {}", names(&tagged), tagged.digest);
        }
        ImagesCommand::Rm { reference } => {
            let image = store
                .lookup(&reference)?
                .ok_or(ImageError::NotFound(reference))?;
            store.remove(&image)?;
            println!("removed {} {}", names(&image), image.digest);
        }
    }
    Ok(())
}

fn registry_auth(
    reference: &str,
    creds: Option<&str>,
    auth_file: Option<&std::path::Path>,
) -> Result<RegistryAuth, ImageError> {
    let mut auth = RegistryAuth::anonymous();
    if let Some(creds) = creds {
        let registry = Reference::parse(reference)?.registry;
        let (username, password) = creds.split_once(':').unwrap_or((creds, ""));
        auth.merge(RegistryAuth::basic(&registry, username, password));
    }
    if let Some(path) = auth_file {
        let bytes = std::fs::read(path).map_err(|source| ImageError::Io {
            op: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let is_config_json = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map(|v| v.get("auths").is_some())
            .unwrap_or(true);
        auth.merge(if is_config_json {
            RegistryAuth::from_docker_config_json(&bytes)?
        } else {
            RegistryAuth::from_dockercfg(&bytes)?
        });
    }
    Ok(auth)
}

fn names(image: &Image) -> String {
    if image.references.is_empty() {
        "<none>".to_string()
    } else {
        image.references.join(",")
    }
}

fn print_table(images: &[Image]) {
    let rows: Vec<(String, String, String)> = images
        .iter()
        .flat_map(|image| {
            // Tags; `name@digest` references only for an image without tags (the digest
            // column already says which content it is).
            let tagged: Vec<String> = image
                .references
                .iter()
                .filter(|r| !r.contains('@'))
                .cloned()
                .collect();
            let refs = match (tagged.is_empty(), image.references.is_empty()) {
                (false, _) => tagged,
                (true, false) => image.references.clone(),
                (true, true) => vec!["<none>".to_string()],
            };
            refs.into_iter()
                .map(|r| (r, image.digest.clone(), human_size(image.size)))
                .collect::<Vec<_>>()
        })
        .collect();
    let width = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(0)
        .max("REFERENCE".len());
    println!("{:width$}  {:71}  SIZE", "REFERENCE", "DIGEST");
    for (reference, digest, size) in rows {
        println!("{reference:width$}  {digest:71}  {size}");
    }
}

fn to_json(images: &[Image]) -> serde_json::Value {
    images.iter().map(image_json).collect()
}

fn image_json(i: &Image) -> serde_json::Value {
    serde_json::json!({
        "references": i.references,
        "digest": i.digest,
        "configDigest": i.config_digest,
        "size": i.size,
        "config": {
            "entrypoint": i.config.entrypoint,
            "cmd": i.config.cmd,
            "env": i.config.env,
            "workingDir": i.config.working_dir,
            "user": i.config.user,
        },
    })
}

/// Sizes as `crictl images` prints them (decimal units).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.3}{}", UNITS[unit])
    }
}
