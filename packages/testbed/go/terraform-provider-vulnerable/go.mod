module opendepot.test/terraform-provider-vulnerable

go 1.25.0

require golang.org/x/text v0.3.7
