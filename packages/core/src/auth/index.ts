/** Authorization shared by the server and the operator: GroupBindings compiled and evaluated. */
export * from './group-bindings.ts';
