//! Arbitrary bytes as a result folder's files, through the reader and every rendering `report`
//! writes (report.html, navigator-layer.json, results.xlsx). Any panic is a bug: a damaged
//! folder must come back as a problem.
//!
//! Input: the files of `fuzzing::folder_files()` (the CSV files, then run.json and optimize.json), in that order,
//! separated by NUL bytes; an empty part is a file the folder does not hold.
#![no_main]

use killchain::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files: Vec<(&str, &[u8])> = fuzzing::folder_files()
        .into_iter()
        .zip(data.split(|&b| b == 0))
        .filter(|(_, bytes)| !bytes.is_empty())
        .collect();
    if files.is_empty() {
        return;
    }
    let _ = fuzzing::report_bytes(&files);
});
