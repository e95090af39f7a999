//! Package URLs (<https://github.com/package-url/purl-spec>), built with the
//! `packageurl` crate, which follows the spec's per-type rules (lower-cased
//! deb and npm names, pypi's `_` to `-`) and percent-encoding.

use packageurl::PackageUrl;

use crate::contents::Ecosystem;

/// The parts of one package's URL.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields<'a> {
    pub ecosystem: Ecosystem,
    /// `debian`, `alpine`, `@babel`, `github.com/spf13`.
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// The package's name where it is more than the URL's name: npm's
    /// `@babel/core`, Go's `github.com/spf13/cobra`.
    pub full_name: Option<&'a str>,
    /// As the record gives it; also the [`Package`](crate::contents::Package)'s version.
    pub version: &'a str,
    /// The URL's version: the record's by default, `None` for Go's
    /// `(devel)`, which names no release, `1.22.1` for Go's `go1.22.1`.
    pub purl_version: Option<&'a str>,
    pub arch: Option<&'a str>,
    /// `distro=debian-12`.
    pub distro: Option<&'a str>,
}

impl<'a> Fields<'a> {
    pub fn new(ecosystem: Ecosystem, name: &'a str, version: &'a str) -> Self {
        Self {
            ecosystem,
            namespace: None,
            name,
            full_name: None,
            version,
            purl_version: Some(version),
            arch: None,
            distro: None,
        }
    }

    pub fn to_purl(self) -> Result<String, packageurl::Error> {
        let mut purl = PackageUrl::new(self.ecosystem.purl_type(), self.name)?;
        if let Some(ns) = self.namespace.filter(|ns| !ns.is_empty()) {
            purl.with_namespace(ns)?;
        }
        if let Some(version) = self.purl_version.filter(|v| !v.is_empty()) {
            purl.with_version(version)?;
        }
        if let Some(arch) = self.arch.filter(|a| !a.is_empty()) {
            purl.add_qualifier("arch", arch)?;
        }
        if let Some(distro) = self.distro.filter(|d| !d.is_empty()) {
            purl.add_qualifier("distro", distro)?;
        }
        purl.validate()?;
        Ok(purl.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(f: Fields<'_>) -> String {
        f.to_purl().expect("a valid purl")
    }

    // Expected strings are the purl-spec's own examples (README and
    // test-suite-data.json) or follow its encoding rules to the letter.
    #[test]
    fn spec_examples() {
        let mut deb = Fields::new(Ecosystem::Deb, "curl", "7.50.3-1");
        deb.namespace = Some("debian");
        deb.arch = Some("i386");
        deb.distro = Some("jessie");
        assert_eq!(
            url(deb),
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
        );

        let mut npm = Fields::new(Ecosystem::Npm, "core", "7.0.0");
        npm.namespace = Some("@angular");
        assert_eq!(url(npm), "pkg:npm/%40angular/core@7.0.0");

        assert_eq!(
            url(Fields::new(Ecosystem::Pypi, "Django_Package", "1.11.1")),
            "pkg:pypi/django-package@1.11.1"
        );

        let mut go = Fields::new(Ecosystem::Golang, "gorilla", "v1.2.0");
        go.namespace = Some("github.com/gorilla/context");
        assert_eq!(
            url(go),
            "pkg:golang/github.com/gorilla/context/gorilla@v1.2.0"
        );

        let mut apk = Fields::new(Ecosystem::Apk, "curl", "7.83.0-r0");
        apk.namespace = Some("alpine");
        apk.arch = Some("x86");
        assert_eq!(url(apk), "pkg:apk/alpine/curl@7.83.0-r0?arch=x86");
    }

    #[test]
    fn versions_and_qualifiers_are_percent_encoded() {
        // A Debian epoch keeps its colon; `+` is encoded (it means a space
        // in a query string), as syft and trivy write it.
        let mut deb = Fields::new(Ecosystem::Deb, "libc6", "1:2.36-9+deb12u4");
        deb.namespace = Some("debian");
        deb.arch = Some("amd64");
        deb.distro = Some("debian-12");
        assert_eq!(
            url(deb),
            "pkg:deb/debian/libc6@1:2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        // The separators that would end a part early are encoded in it
        // (`&` is one only in qualifiers), and the URL reads back whole.
        let mut odd = Fields::new(Ecosystem::Npm, "a b", "1.0.0#x?y&z");
        odd.distro = Some("x/y&z");
        let s = url(odd);
        assert_eq!(s, "pkg:npm/a%20b@1.0.0%23x%3Fy&z?distro=x%2Fy%26z");
        let back: PackageUrl<'_> = s.parse().expect("reads back");
        assert_eq!(back.version(), Some("1.0.0#x?y&z"));
        assert_eq!(back.qualifiers().get("distro").map(|v| &**v), Some("x/y&z"));
    }

    #[test]
    fn devel_versions_stay_out_of_the_url() {
        let mut main = Fields::new(Ecosystem::Golang, "cli", "(devel)");
        main.namespace = Some("github.com/docker");
        main.purl_version = None;
        assert_eq!(url(main), "pkg:golang/github.com/docker/cli");
    }

    #[test]
    fn an_empty_name_is_an_error() {
        assert!(Fields::new(Ecosystem::Deb, "", "1").to_purl().is_err());
    }
}
