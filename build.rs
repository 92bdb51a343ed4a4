//! Compiles the pages (`web/pages/`) and their assets (`web/assets/`) into the binary with
//! memory-serve: each file with its SHA-256 `ETag`, and in release builds the text files
//! brotli-compressed once here rather than on every response (a gzip copy is made once at
//! start). `src/http/pages.rs` serves them.

fn main() {
    // Embedded in every build, debug included, so the tests serve what a release serves.
    memory_serve::load_names_directories([("pages", "web/pages"), ("assets", "web/assets")], true);
}
