META
key;value
description;Local PB in Testowo
country;Poland
unit;Testowo
instance;2024
num_projects;3
num_votes;4
budget;100000
vote_type;cumulative
rule;greedy
date_begin;01.09.2024
date_end;30.09.2024
max_sum_points;5
max_points;3
PROJECTS
project_id;cost;votes;name;category
1;40000;3;Park benches;environment
2;50000;2;"Library; reading room";culture
3;30000;1;Bike racks;transport
VOTES
voter_id;vote;points
v1;1,2;3,2
v2;1;5
v3;2,3;1,1
v4;3;4
