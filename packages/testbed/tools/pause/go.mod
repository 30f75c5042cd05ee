module opendepot.local/pause

go 1.22
