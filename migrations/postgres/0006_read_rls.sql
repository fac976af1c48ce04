-- Row-level security on the read models that hold a person's rows (ADR 0006): defence in
-- depth behind the api's access gate. Health reads run as vigil_reader inside a transaction
-- that sets vigil.subject (set_config(..., true)); vigil_reader sees that person's rows and
-- nothing else, and no rows at all when no subject is set. The projection runner and the
-- authentication code (sessions, sign-in, staff tools) run as vigil_projector, which the
-- policies let through; it never serves a health query.

do $$ begin
    create role vigil_projector nologin;
exception when duplicate_object or unique_violation then null;
end $$;
-- Roles are shared by every database of the cluster, and test databases migrate at once:
-- a concurrent grant may fail with "tuple concurrently updated" where the other one won.
do $$ begin
    execute format('grant vigil_projector to %I', current_user);
exception when others then
    if not pg_has_role(current_user, 'vigil_projector', 'member') then raise; end if;
end $$;
-- Neither role is created with BYPASSRLS (the default); the catalog check at start-up and in
-- the tests refuses a reader that has it.

grant usage on schema vigil_read to vigil_projector;
grant select, insert, update, delete, truncate on all tables in schema vigil_read to vigil_projector;

-- The reader keeps only what health reads need: reading the person's rows.
revoke insert, update, delete, truncate on all tables in schema vigil_read from vigil_reader;
revoke all on vigil_read.identity_claims, vigil_read.sessions, vigil_read.refresh_tokens,
    vigil_read.login_throttle, vigil_read.totp_steps, vigil_read.mfa_challenges,
    vigil_read.break_glass_grants, vigil_read.projection_checkpoints from vigil_reader;

do $$
declare t text;
begin
    foreach t in array array['accounts', 'credentials', 'protocols', 'protocol_versions',
        'protocol_status_changes', 'doses', 'health_logs', 'bloodwork_panels', 'marker_results',
        'second_factors', 'access_log']
    loop
        execute format('alter table vigil_read.%I enable row level security', t);
        execute format('alter table vigil_read.%I force row level security', t);
        execute format(
            'create policy subject_only on vigil_read.%I for select to vigil_reader '
            'using (user_id = current_setting(''vigil.subject'', true))', t);
        execute format(
            'create policy projector_all on vigil_read.%I for all to vigil_projector '
            'using (true) with check (true)', t);
    end loop;
end $$;
