//! Patch metadata for core.v1's volume sources and projections (the `volumes` of a pod
//! and the sources of a PersistentVolume), transcribed from the upstream Go struct tags
//! (k8s.io/api at v1.33): only fields that are objects, maps or lists are listed.

use super::{atomic_obj, list, map, obj, TypeEntry};

#[rustfmt::skip]
pub(super) static TYPES: &[TypeEntry] = &[
    ("io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.AzureDiskVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.AzureFilePersistentVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.AzureFileVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.CSIPersistentVolumeSource", false, &[
        ("volumeAttributes", map(None)),
        ("controllerPublishSecretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
        ("nodeStageSecretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
        ("nodePublishSecretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
        ("controllerExpandSecretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
        ("nodeExpandSecretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.CSIVolumeSource", false, &[
        ("volumeAttributes", map(None)),
        ("nodePublishSecretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.CephFSPersistentVolumeSource", false, &[
        ("monitors", list(None, None, None, "atomic", &[]).null()),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.CephFSVolumeSource", false, &[
        ("monitors", list(None, None, None, "atomic", &[]).null()),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.CinderPersistentVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.CinderVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.ClusterTrustBundleProjection", false, &[
        ("labelSelector", atomic_obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").omitted()),
    ]),
    ("io.k8s.api.core.v1.ConfigMapProjection", false, &[
        ("items", list(Some("io.k8s.api.core.v1.KeyToPath"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", false, &[
        ("items", list(Some("io.k8s.api.core.v1.KeyToPath"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.DownwardAPIProjection", false, &[
        ("items", list(Some("io.k8s.api.core.v1.DownwardAPIVolumeFile"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.DownwardAPIVolumeFile", false, &[
        ("fieldRef", atomic_obj("io.k8s.api.core.v1.ObjectFieldSelector").omitted()),
        ("resourceFieldRef", atomic_obj("io.k8s.api.core.v1.ResourceFieldSelector").omitted()),
    ]),
    ("io.k8s.api.core.v1.DownwardAPIVolumeSource", false, &[
        ("items", list(Some("io.k8s.api.core.v1.DownwardAPIVolumeFile"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.EmptyDirVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.EphemeralVolumeSource", false, &[
        ("volumeClaimTemplate", obj("io.k8s.api.core.v1.PersistentVolumeClaimTemplate").omitted()),
    ]),
    ("io.k8s.api.core.v1.FCVolumeSource", false, &[
        ("targetWWNs", list(None, None, None, "atomic", &[])),
        ("wwids", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.FlexPersistentVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
        ("options", map(None)),
    ]),
    ("io.k8s.api.core.v1.FlexVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
        ("options", map(None)),
    ]),
    ("io.k8s.api.core.v1.FlockerVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.GCEPersistentDiskVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.GitRepoVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.GlusterfsPersistentVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.GlusterfsVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.HostPathVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", false, &[
        ("portals", list(None, None, None, "atomic", &[])),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", false, &[
        ("portals", list(None, None, None, "atomic", &[])),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.ImageVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.KeyToPath", false, &[]),
    ("io.k8s.api.core.v1.LocalVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.NFSVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.PortworxVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.ProjectedVolumeSource", false, &[
        ("sources", list(Some("io.k8s.api.core.v1.VolumeProjection"), None, None, "atomic", &[]).null()),
    ]),
    ("io.k8s.api.core.v1.QuobyteVolumeSource", false, &[]),
    ("io.k8s.api.core.v1.RBDPersistentVolumeSource", false, &[
        ("monitors", list(None, None, None, "atomic", &[]).null()),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.RBDVolumeSource", false, &[
        ("monitors", list(None, None, None, "atomic", &[]).null()),
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.ScaleIOPersistentVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.SecretReference").null()),
    ]),
    ("io.k8s.api.core.v1.ScaleIOVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").null()),
    ]),
    ("io.k8s.api.core.v1.SecretProjection", false, &[
        ("items", list(Some("io.k8s.api.core.v1.KeyToPath"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.SecretVolumeSource", false, &[
        ("items", list(Some("io.k8s.api.core.v1.KeyToPath"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.api.core.v1.ServiceAccountTokenProjection", false, &[]),
    ("io.k8s.api.core.v1.StorageOSPersistentVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.ObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.StorageOSVolumeSource", false, &[
        ("secretRef", atomic_obj("io.k8s.api.core.v1.LocalObjectReference").omitted()),
    ]),
    ("io.k8s.api.core.v1.Volume", false, &[
        ("hostPath", obj("io.k8s.api.core.v1.HostPathVolumeSource").omitted()),
        ("emptyDir", obj("io.k8s.api.core.v1.EmptyDirVolumeSource").omitted()),
        ("gcePersistentDisk", obj("io.k8s.api.core.v1.GCEPersistentDiskVolumeSource").omitted()),
        ("awsElasticBlockStore", obj("io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource").omitted()),
        ("gitRepo", obj("io.k8s.api.core.v1.GitRepoVolumeSource").omitted()),
        ("secret", obj("io.k8s.api.core.v1.SecretVolumeSource").omitted()),
        ("nfs", obj("io.k8s.api.core.v1.NFSVolumeSource").omitted()),
        ("iscsi", obj("io.k8s.api.core.v1.ISCSIVolumeSource").omitted()),
        ("glusterfs", obj("io.k8s.api.core.v1.GlusterfsVolumeSource").omitted()),
        ("persistentVolumeClaim", obj("io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource").omitted()),
        ("rbd", obj("io.k8s.api.core.v1.RBDVolumeSource").omitted()),
        ("flexVolume", obj("io.k8s.api.core.v1.FlexVolumeSource").omitted()),
        ("cinder", obj("io.k8s.api.core.v1.CinderVolumeSource").omitted()),
        ("cephfs", obj("io.k8s.api.core.v1.CephFSVolumeSource").omitted()),
        ("flocker", obj("io.k8s.api.core.v1.FlockerVolumeSource").omitted()),
        ("downwardAPI", obj("io.k8s.api.core.v1.DownwardAPIVolumeSource").omitted()),
        ("fc", obj("io.k8s.api.core.v1.FCVolumeSource").omitted()),
        ("azureFile", obj("io.k8s.api.core.v1.AzureFileVolumeSource").omitted()),
        ("configMap", obj("io.k8s.api.core.v1.ConfigMapVolumeSource").omitted()),
        ("vsphereVolume", obj("io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource").omitted()),
        ("quobyte", obj("io.k8s.api.core.v1.QuobyteVolumeSource").omitted()),
        ("azureDisk", obj("io.k8s.api.core.v1.AzureDiskVolumeSource").omitted()),
        ("photonPersistentDisk", obj("io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource").omitted()),
        ("projected", obj("io.k8s.api.core.v1.ProjectedVolumeSource").omitted()),
        ("portworxVolume", obj("io.k8s.api.core.v1.PortworxVolumeSource").omitted()),
        ("scaleIO", obj("io.k8s.api.core.v1.ScaleIOVolumeSource").omitted()),
        ("storageos", obj("io.k8s.api.core.v1.StorageOSVolumeSource").omitted()),
        ("csi", obj("io.k8s.api.core.v1.CSIVolumeSource").omitted()),
        ("ephemeral", obj("io.k8s.api.core.v1.EphemeralVolumeSource").omitted()),
        ("image", obj("io.k8s.api.core.v1.ImageVolumeSource").omitted()),
    ]),
    ("io.k8s.api.core.v1.VolumeProjection", false, &[
        ("secret", obj("io.k8s.api.core.v1.SecretProjection").omitted()),
        ("downwardAPI", obj("io.k8s.api.core.v1.DownwardAPIProjection").omitted()),
        ("configMap", obj("io.k8s.api.core.v1.ConfigMapProjection").omitted()),
        ("serviceAccountToken", obj("io.k8s.api.core.v1.ServiceAccountTokenProjection").omitted()),
        ("clusterTrustBundle", obj("io.k8s.api.core.v1.ClusterTrustBundleProjection").omitted()),
    ]),
    ("io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource", false, &[]),
];
