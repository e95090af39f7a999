//! OCI descriptor annotations that name images, as the tools that write and
//! read bundles spell them. The verifier reads names from them and the CLI's
//! `oci:` target writes them, so a layout Airlock writes names its images the
//! way a bundle it verifies would.

/// containerd's (and nerdctl's, and Docker >= 25's) annotation for an image's
/// full name, e.g. `docker.io/library/alpine:3.19`.
pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// The OCI annotation for an image's reference in a layout: a full reference
/// or just a tag, depending on the writer.
pub const OCI_REF_NAME: &str = oci_spec::image::ANNOTATION_REF_NAME;

/// BuildKit marks provenance and SBOM manifests with this; they are not
/// images.
pub const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
