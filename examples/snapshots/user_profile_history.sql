{{ config(unique_key='user_id', strategy='check', check_cols=['username', 'name', 'description', 'verified']) }}
-- Every version of each X profile (the seed pulls profiles daily): valid_from, valid_to (NULL: current).
select id as user_id, username, name, description, verified
from {{ source('x', 'users') }}
