-- The schema main made with create_all at commit 70aa25c (SQLite), before migrations existed.
CREATE TABLE firms (
	id INTEGER NOT NULL, 
	brn VARCHAR(10) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	size_class VARCHAR(10) NOT NULL, 
	region VARCHAR(20) NOT NULL, 
	founded DATE, 
	ksic_codes JSON NOT NULL, 
	g2b_codes JSON NOT NULL, 
	description TEXT NOT NULL, 
	licences JSON NOT NULL, 
	debarred_from DATE, 
	debarred_to DATE, 
	affiliate_group VARCHAR(50), 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_firms_name ON firms (name);
CREATE UNIQUE INDEX ix_firms_brn ON firms (brn);
CREATE TABLE rounds (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	reference_date DATE NOT NULL, 
	open_tracks JSON NOT NULL, 
	rule_overrides JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(100) NOT NULL, 
	password_hash VARCHAR(300) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	active BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	action VARCHAR(50) NOT NULL, 
	detail JSON NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE certificates (
	id INTEGER NOT NULL, 
	firm_id INTEGER NOT NULL, 
	kind VARCHAR(30) NOT NULL, 
	code VARCHAR(20) NOT NULL, 
	valid_from DATE, 
	valid_to DATE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(firm_id) REFERENCES firms (id) ON DELETE CASCADE
);
CREATE INDEX ix_certificates_firm_id ON certificates (firm_id);
CREATE TABLE applications (
	id INTEGER NOT NULL, 
	round_id INTEGER NOT NULL, 
	firm_id INTEGER NOT NULL, 
	role VARCHAR(10) NOT NULL, 
	track VARCHAR(20) NOT NULL, 
	product_code VARCHAR(16) NOT NULL, 
	text TEXT NOT NULL, 
	preferences JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (round_id, firm_id, role, track), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE, 
	FOREIGN KEY(firm_id) REFERENCES firms (id) ON DELETE CASCADE
);
CREATE INDEX ix_applications_firm_id ON applications (firm_id);
CREATE INDEX ix_applications_round_id ON applications (round_id);
CREATE TABLE match_runs (
	id INTEGER NOT NULL, 
	round_id INTEGER NOT NULL, 
	track VARCHAR(20), 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR(100) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	params JSON NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	objective FLOAT, 
	bound FLOAT, 
	gap FLOAT, 
	seconds FLOAT, 
	diagnostics JSON NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE
);
CREATE INDEX ix_match_runs_round_id ON match_runs (round_id);
CREATE TABLE decisions (
	id INTEGER NOT NULL, 
	round_id INTEGER NOT NULL, 
	lead_id INTEGER NOT NULL, 
	partner_id INTEGER NOT NULL, 
	track VARCHAR(20) NOT NULL, 
	kind VARCHAR(10) NOT NULL, 
	note TEXT NOT NULL, 
	decided_by VARCHAR(100) NOT NULL, 
	decided_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (round_id, lead_id, partner_id), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE, 
	FOREIGN KEY(lead_id) REFERENCES firms (id), 
	FOREIGN KEY(partner_id) REFERENCES firms (id)
);
CREATE INDEX ix_decisions_round_id ON decisions (round_id);
CREATE TABLE interests (
	id INTEGER NOT NULL, 
	round_id INTEGER, 
	lead_id INTEGER NOT NULL, 
	partner_id INTEGER NOT NULL, 
	track VARCHAR(20) NOT NULL, 
	note TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (round_id, lead_id, partner_id, track), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE, 
	FOREIGN KEY(lead_id) REFERENCES firms (id), 
	FOREIGN KEY(partner_id) REFERENCES firms (id)
);
CREATE TABLE proposals (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	track VARCHAR(20) NOT NULL, 
	lead_id INTEGER NOT NULL, 
	partner_id INTEGER NOT NULL, 
	score FLOAT NOT NULL, 
	explanation JSON NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES match_runs (id) ON DELETE CASCADE, 
	FOREIGN KEY(lead_id) REFERENCES firms (id), 
	FOREIGN KEY(partner_id) REFERENCES firms (id)
);
CREATE INDEX ix_proposals_run_id ON proposals (run_id);
