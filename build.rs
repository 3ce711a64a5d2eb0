//! Builds the pages' stylesheet from the NL Design System's npm packages (pinned in
//! web/package-lock.json, never copied into the repository) and our own tokens and
//! layout: `$OUT_DIR/loket.css`, embedded by `src/web/assets.rs`. The municipality's
//! colours are not built in: `src/web/assets.rs` writes them from the profile in use.
//!
//! The packages are installed with `npm ci` in web/ when they are missing, so a fresh
//! clone's `cargo run` needs nothing more than Node (and the npm registry).

use std::path::Path;
use std::process::Command;

const PARTS: [&str; 3] = [
    // The example theme of the NL Design System: every component's tokens.
    "web/node_modules/@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css",
    // The components.
    "web/node_modules/@utrecht/component-library-css/dist/index.css",
    // Our own tokens (the profile's colours as --loket-* properties) and the page layout.
    "web/loket.css",
];

fn main() {
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/loket.css");
    println!("cargo:rerun-if-changed=build.rs");
    let missing = PARTS.iter().any(|p| !Path::new(p).exists());
    if missing {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir("web")
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => panic!(
                "the pages need the NL Design System from npm: `npm ci` in web/ failed ({other:?}); install Node 20 and run it by hand"
            ),
        }
    }
    let mut css = String::new();
    for part in PARTS {
        let text = std::fs::read_to_string(part).unwrap_or_else(|e| panic!("{part}: {e}"));
        css.push_str(&format!("/* {part} */\n"));
        css.push_str(&text);
        css.push('\n');
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("loket.css"), css).expect("write loket.css");
}
