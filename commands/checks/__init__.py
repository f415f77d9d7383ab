"""The parts `touchlog check` tries, one line each: settings, IMAP, folders, database, files,
SMTP, Salesforce."""
