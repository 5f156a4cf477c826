META
key;value
description;Local PB in Testowo
country;Poland
unit;Testowo
instance;2024
num_projects;3
num_votes;4
budget;100000
vote_type;approval
rule;greedy
date_begin;01.09.2024
date_end;30.09.2024
min_length;1
max_length;2
PROJECTS
project_id;cost;votes;name;category
1;40000;3;Park benches;environment
2;50000;2;"Library; reading room";culture
3;30000;1;Bike racks;transport
VOTES
voter_id;age;sex;vote
v1;34;F;1,2
v2;51;M;1
v3;29;F;2,3
v4;63;M;"1