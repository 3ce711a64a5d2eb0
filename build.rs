//! Builds the pages' stylesheet, `$OUT_DIR/loket.css` (embedded by
//! `src/web/assets.rs`): the NL Design System's npm packages (pinned in
//! web/package-lock.json, never copied into the repository) and our own tokens and
//! layout, cut down to what the pages use by `web/build-css.mjs`. The municipality's
//! colours are not built in: `src/web/assets.rs` writes them from the profile in use.
//!
//! The packages are installed with `npm ci` in web/ when they are missing, so a fresh
//! clone's `cargo run` needs nothing more than Node (and the npm registry).

use std::path::Path;
use std::process::Command;

/// What the stylesheet is made of, and what decides which of it is kept: the
/// templates, the page code and the script name every class the pages use.
const INPUTS: [&str; 6] = [
    "web/package-lock.json",
    "web/build-css.mjs",
    "web/loket.css",
    "web/loket.js",
    "templates",
    "src/web",
];

fn main() {
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let installed = Path::new("web/node_modules/purgecss").exists()
        && Path::new("web/node_modules/@utrecht/component-library-css").exists();
    if !installed {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir("web"),
            "`npm ci` in web/",
        );
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let css = Path::new(&out).join("loket.css");
    run(
        Command::new("node").arg("web/build-css.mjs").arg(&css),
        "`node web/build-css.mjs`",
    );
}

fn run(command: &mut Command, what: &str) {
    match command.status() {
        Ok(status) if status.success() => {}
        other => panic!(
            "the pages' stylesheet needs Node 20 and the NL Design System from npm: {what} failed ({other:?}); run `npm ci` in web/ by hand"
        ),
    }
}
