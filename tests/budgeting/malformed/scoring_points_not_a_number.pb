META
key;value
description;Local PB in Testowo
country;Poland
unit;Testowo
instance;2024
num_projects;3
num_votes;4
budget;100000
vote_type;scoring
rule;greedy
date_begin;01.09.2024
date_end;30.09.2024
default_score;0
PROJECTS
project_id;cost;votes;name;category
1;40000;3;Park benches;environment
2;50000;2;"Library; reading room";culture
3;30000;1;Bike racks;transport
VOTES
voter_id;vote;points
v1;1,2;-1,2
v2;1;1.5
v3;2,3;1,x
v4;3;2
