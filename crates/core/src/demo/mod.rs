//! A synthetic organisation to try recert on and to benchmark it with.
//!
//! [`generate`] builds a company of any size: a CEO, department heads and manager trees with
//! realistic spans; a few dozen systems (Active Directory, Workday, Salesforce, AWS, ...) with
//! entitlements spelled the way each system spells them; access profiles and department roles
//! bundling them; and accounts and assignments skewed the way real access is (colleagues share
//! most of it, a few people hold a lot, some of it is privileged, some accounts belong to
//! nobody). The same options always give the same dataset, on every platform: randomness comes
//! from a hand-written generator, and ids are UUIDv7-shaped but counted from a fixed instant, so
//! they ascend in creation order within every kind of record.
//!
//! A hundred thousand identities give about two million assignments in a few seconds; nothing
//! but the dataset and some per-source indexes is held while generating.

mod access;
mod bundles;
mod catalog;
mod depts;
mod names;
mod org;
mod rng;
mod sources;
#[cfg(test)]
mod tests;

use recert_domain::Dataset;

use self::rng::{IdGen, Rng};

/// Options for the synthetic organisation.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How many people work there, the CEO included.
    pub identities: usize,
    /// Different seeds give different organisations of the same shape.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            identities: 1000,
            seed: 42,
        }
    }
}

/// Generates the organisation; the same options always give the same Dataset (byte for byte).
pub fn generate(opts: &DemoOptions) -> Dataset {
    let mut ds = Dataset::default();
    if opts.identities == 0 {
        return ds;
    }
    // One random stream per stage, so that a change to how one stage draws leaves the others'
    // output as it was.
    let stream = |n| Rng::new(opts.seed, n);
    let mut ids = IdGen::new(opts.seed);
    let mut people = org::build_tree(opts.identities, &mut stream(1));
    ds.identities = org::identities(&mut people, &mut ids, &mut stream(2));
    let owners = org::Owners::new(&people, &ds.identities);
    let catalog = catalog::build(&mut ds, &owners, &mut ids, &mut stream(3));
    let targets = access::targets(&people, &mut stream(4));
    access::assign(
        &mut ds,
        &people,
        &catalog,
        &targets,
        &mut ids,
        &mut stream(5),
    );
    ds
}
