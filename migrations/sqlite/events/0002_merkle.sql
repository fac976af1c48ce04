-- The Merkle tree over the log (ADR 0009): the hash of every perfect subtree of 16 leaves or
-- more (level >= 4), written with the events that complete it. Subtrees below level 4 are
-- hashed from the events' own chain hashes (at most 15 rows, one range read). Leaf i is the
-- event at position i + 1. Existing logs are backfilled when the store opens.
create table merkle_nodes (
    level integer not null,
    idx integer not null,
    hash blob not null,
    primary key (level, idx)
) without rowid;

create trigger merkle_nodes_refuse_update before update on merkle_nodes
begin select raise(abort, 'vigil: merkle nodes are append-only'); end;
create trigger merkle_nodes_refuse_delete before delete on merkle_nodes
begin select raise(abort, 'vigil: merkle nodes are append-only'); end;
