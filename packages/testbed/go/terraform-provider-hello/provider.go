package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// New returns the provider factory for one version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &helloProvider{version: version} }
}

type helloProvider struct{ version string }

func (p *helloProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "hello"
	resp.Version = p.version
}

func (p *helloProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{Description: "Greets: the OpenDepot quickstart's example provider."}
}

func (p *helloProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (p *helloProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *helloProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &greeting{version: p.version} }}
}

// greeting is the hello_greeting data source: name in, greeting out.
type greeting struct{ version string }

type greetingModel struct {
	Name     types.String `tfsdk:"name"`
	Greeting types.String `tfsdk:"greeting"`
}

func (d *greeting) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_greeting"
}

func (d *greeting) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A greeting for a name.",
		Attributes: map[string]schema.Attribute{
			"name":     schema.StringAttribute{Required: true, Description: "Who to greet."},
			"greeting": schema.StringAttribute{Computed: true, Description: "The greeting."},
		},
	}
}

func (d *greeting) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model greetingModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	model.Greeting = types.StringValue(fmt.Sprintf("Hello, %s! (from hello %s, served by OpenDepot)", model.Name.ValueString(), d.version))
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}
