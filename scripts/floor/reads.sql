-- The read floor of `sigov check all` (scripts/bench-reference.sh): the information the five
-- checks need, each application table read once, narrow, rows sent to the client. Plain SQL
-- that MariaDB and PostgreSQL both run. The recorded alerts: the look-back window the checks
-- de-duplicate against (31 days before 2026-11-22).
SELECT id, nom, statut_id, priorite, date_fin, date_creation, createur_id, budget_previsionnel, devise FROM core_projet;
SELECT id, nom FROM core_statutprojet;
SELECT id, username, email, first_name, last_name, is_active, statut_actif, is_superuser FROM core_utilisateur;
SELECT projet_id, utilisateur_id, est_responsable_principal FROM core_affectation WHERE date_fin IS NULL;
SELECT id, projet_id, ordre, statut, date_fin_prevue, date_fin_reelle, type_etape_id FROM core_etapeprojet;
SELECT id, nom FROM core_typeetape;
SELECT id, etape_id, nom, date_fin, responsable_id, date_creation FROM core_tacheetape WHERE statut IN ('A_FAIRE', 'EN_COURS', 'BLOQUEE') AND date_fin IS NOT NULL;
SELECT id, module_id, nom, date_fin, responsable_id, date_creation FROM core_tachemodule WHERE statut IN ('A_FAIRE', 'EN_COURS', 'EN_PAUSE') AND date_fin IS NOT NULL;
SELECT id, projet_id, nom FROM core_moduleprojet;
SELECT projet_id, SUM(montant) FROM core_lignebudget GROUP BY projet_id;
SELECT id, projet_id, date_debut, date_fin FROM core_contratgarantie;
SELECT id, type_alerte, projet_id, destinataire_id, date_creation, donnees_contexte FROM core_alerteprojet WHERE date_creation >= '2026-10-22';
