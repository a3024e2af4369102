// CLI commands live here.
