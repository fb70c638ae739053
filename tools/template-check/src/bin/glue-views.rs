//! Prints the template's block of Glue views, generated from `views/*.sql`:
//! `cargo run -q -p template-check --bin glue-views`. Paste it over the block between the
//! `BEGIN managed-lake views` and `END managed-lake views` lines of `template.yaml`.

fn main() -> std::process::ExitCode {
    match template_check::views::template_block() {
        Ok(block) => {
            print!("{block}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("glue-views: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
