"""What a run leaves behind: records, junit.xml, controls.json, summary.md, waivers, redaction."""
