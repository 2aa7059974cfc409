//! The registry and the custom domains asked for: the registry domain and one data domain per
//! region, validated, with the Azure endpoint each one's CNAME points at.

use super::CustomDomainError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What a custom domain stands in for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DomainRole {
    /// The registry's login server (`<registry>.azurecr.io`).
    Registry,
    /// The data endpoint of one region (`<registry>.<region>.data.azurecr.io`).
    Data { region: String },
}

/// One custom domain and its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    #[serde(flatten)]
    pub role: DomainRole,
    pub fqdn: String,
}

impl Domain {
    /// The Azure host name the domain's CNAME record points at.
    pub fn cname_target(&self, registry: &str) -> String {
        match &self.role {
            DomainRole::Registry => format!("{registry}.azurecr.io"),
            DomainRole::Data { region } => format!("{registry}.{region}.data.azurecr.io"),
        }
    }

    /// The field of the policy review object the domain sits in.
    pub fn review_field(&self) -> String {
        match &self.role {
            DomainRole::Registry => "registryDomain".to_owned(),
            DomainRole::Data { region } => format!("dataDomains.{region}"),
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.role {
            DomainRole::Registry => write!(f, "registry domain {}", self.fqdn),
            DomainRole::Data { region } => write!(f, "data domain {} ({region})", self.fqdn),
        }
    }
}

/// A registry and its custom domains, every name checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDomains {
    /// The registry name, lower case (`contoso` for contoso.azurecr.io).
    pub registry: String,
    pub registry_domain: String,
    /// Region to data domain.
    pub data_domains: BTreeMap<String, String>,
}

impl CustomDomains {
    /// Checks the registry name (5-50 letters and digits, as ACR requires), each domain (a host
    /// name of at least two labels, no wildcard) and each region; domains must be distinct.
    pub fn new(
        registry: &str,
        registry_domain: &str,
        data_domains: &[(String, String)],
    ) -> Result<Self, CustomDomainError> {
        let invalid = |what, value: &str, reason: &str| CustomDomainError::InvalidInput {
            what,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if !(5..=50).contains(&registry.len())
            || !registry.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid(
                "registry name",
                registry,
                "an ACR name has 5 to 50 letters and digits (contoso for contoso.azurecr.io)",
            ));
        }
        let registry_domain = domain_name(registry_domain)?;
        let mut seen = vec![registry_domain.clone()];
        let mut regions = BTreeMap::new();
        for (region, fqdn) in data_domains {
            let region = region.trim().to_ascii_lowercase();
            if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(
                    "region",
                    &region,
                    "an Azure region name has letters and digits only, e.g. eastus or westeurope",
                ));
            }
            let fqdn = domain_name(fqdn)?;
            if seen.contains(&fqdn) {
                return Err(invalid(
                    "data domain",
                    &fqdn,
                    "each domain may be given once; the registry and every region need their own",
                ));
            }
            seen.push(fqdn.clone());
            if regions.insert(region.clone(), fqdn).is_some() {
                return Err(invalid(
                    "region",
                    &region,
                    "it is given twice; give one data domain per region",
                ));
            }
        }
        Ok(Self {
            registry: registry.to_ascii_lowercase(),
            registry_domain,
            data_domains: regions,
        })
    }

    /// The registry domain, then the data domains by region.
    pub fn all(&self) -> Vec<Domain> {
        let mut domains = vec![Domain {
            role: DomainRole::Registry,
            fqdn: self.registry_domain.clone(),
        }];
        domains.extend(self.data_domains.iter().map(|(region, fqdn)| Domain {
            role: DomainRole::Data {
                region: region.clone(),
            },
            fqdn: fqdn.clone(),
        }));
        domains
    }
}

/// A host name in lower case without a trailing dot; wildcards and single labels are refused.
fn domain_name(given: &str) -> Result<String, CustomDomainError> {
    let name = given.trim().trim_end_matches('.').to_ascii_lowercase();
    let invalid = |reason: String| CustomDomainError::InvalidInput {
        what: "domain",
        value: given.to_owned(),
        reason,
    };
    if name.contains('*') {
        return Err(invalid(
            "a custom domain is one host name; a wildcard belongs in the certificate, not here"
                .to_owned(),
        ));
    }
    acr_names::check_reference_dns_name(&name).map_err(|err| invalid(err.to_string()))?;
    if name.contains('_') {
        return Err(invalid(
            "only letters, digits, hyphens and dots are allowed in a host name".to_owned(),
        ));
    }
    if !name.contains('.') {
        return Err(invalid(
            "give the fully qualified name, e.g. registry.contoso.com".to_owned(),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(region, fqdn)| ((*region).to_owned(), (*fqdn).to_owned()))
            .collect()
    }

    #[test]
    fn domains_are_normalised_and_point_at_the_registry_endpoints() {
        let domains = CustomDomains::new(
            "Contoso",
            "Registry.Contoso.com.",
            &data(&[
                ("WestEurope", "westeurope.data.contoso.com"),
                ("eastus", "eastus.data.contoso.com"),
            ]),
        )
        .expect("valid");
        let all = domains.all();
        let listed: Vec<(String, String)> = all
            .iter()
            .map(|domain| (domain.fqdn.clone(), domain.cname_target(&domains.registry)))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "registry.contoso.com".to_owned(),
                    "contoso.azurecr.io".to_owned()
                ),
                (
                    "eastus.data.contoso.com".to_owned(),
                    "contoso.eastus.data.azurecr.io".to_owned()
                ),
                (
                    "westeurope.data.contoso.com".to_owned(),
                    "contoso.westeurope.data.azurecr.io".to_owned()
                ),
            ]
        );
        assert_eq!(all[1].review_field(), "dataDomains.eastus");
        assert_eq!(all[0].to_string(), "registry domain registry.contoso.com");
        assert_eq!(
            all[2].to_string(),
            "data domain westeurope.data.contoso.com (westeurope)"
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        let error = |registry: &str, domain: &str, data_domains: &[(&str, &str)]| {
            CustomDomains::new(registry, domain, &data(data_domains))
                .expect_err("refused")
                .to_string()
        };
        assert!(error("c", "registry.contoso.com", &[]).contains("5 to 50 letters and digits"));
        assert!(
            error("contoso", "*.contoso.com", &[])
                .contains("a wildcard belongs in the certificate")
        );
        assert!(error("contoso", "registry", &[]).contains("fully qualified"));
        assert!(error("contoso", "bad_name.com", &[]).contains("only letters, digits, hyphens"));
        assert!(
            error("contoso", "r.contoso.com", &[("east us", "e.contoso.com")])
                .contains("letters and digits only")
        );
        assert!(
            error("contoso", "r.contoso.com", &[("eastus", "r.contoso.com")])
                .contains("each domain may be given once")
        );
        assert!(
            error(
                "contoso",
                "r.contoso.com",
                &[("eastus", "a.contoso.com"), ("EastUS", "b.contoso.com")]
            )
            .contains("given twice")
        );
    }
}
