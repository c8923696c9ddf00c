import json, os, sys
pk = {
 'abi': (['scope:abi'], 'Binary layouts, codecs, constants, errors and the backend contract of the host-device mapped region.', {}),
 'hal-sim': (['scope:backend','scope:backend-pure'], 'Simulator backend: a simulated NPU on its own thread sharing memory with the host.', {'@simpler/abi':'0.1.0'}),
 'hal-ascend': (['scope:backend'], 'Ascend backend through koffi: device memory mapped into the host with halHostRegister.', {'@simpler/abi':'0.1.0','koffi':'3.3.4'}),
 'hal-stub': (['scope:backend','scope:backend-pure'], 'Stub backend: every operation is ENOTSUP (platform a5 has no mapping path).', {'@simpler/abi':'0.1.0'}),
 'region-core': (['scope:core'], 'Host-device mapped region: device context, validation, signals, L2/L3 workers and the chip child protocol.', {'@simpler/abi':'0.1.0'}),
 'region-cli': (['scope:cli'], 'The simpler-region command: roundtrip, bench, doctor, inspect, layout, abi, child.', {'@simpler/abi':'0.1.0','@simpler/region-core':'0.1.0','@simpler/hal-sim':'0.1.0','@simpler/hal-stub':'0.1.0','@simpler/hal-ascend':'0.1.0'}),
}
for name,(tags,desc,deps) in pk.items():
    d=f'packages/{name}'
    os.makedirs(d+'/src',exist_ok=True); os.makedirs(d+'/test',exist_ok=True)
    p={
     'name':f'@simpler/{name}','version':'0.1.0','description':desc,'license':'Apache-2.0',
     'type':'commonjs','main':'./dist/index.js','types':'./dist/index.d.ts',
     'exports':{'.':{'types':'./dist/index.d.ts','default':'./dist/index.js'},'./package.json':'./package.json'},
     'files':['dist','!dist/**/*.tsbuildinfo'],'sideEffects':False,'engines':{'node':'>=20'},
     'scripts':{'build':'tsc -p tsconfig.lib.json','lint':'eslint src test','test':'jest'},
     'dependencies':{k:(v if not k.startswith('@simpler') else '^'+v) for k,v in deps.items()},
     'publishConfig':{'access':'public'},
     'nx':{'tags':tags},
    }
    if not deps: del p['dependencies']
    if name=='region-cli':
        p['bin']={'simpler-region':'./dist/bin.js'}
    path=d+'/package.json'
    if not os.path.exists(path):
        json.dump(p,open(path,'w'),indent=2); open(path,'a').write('\n')
    files={
     'tsconfig.json':{'extends':'../../tsconfig.base.json','files':[],'references':[]},
     'tsconfig.lib.json':{'extends':'../../tsconfig.base.json','compilerOptions':{'rootDir':'src','outDir':'dist','tsBuildInfoFile':'dist/tsconfig.lib.tsbuildinfo'},'include':['src/**/*.ts']},
     'tsconfig.spec.json':{'extends':'../../tsconfig.base.json','compilerOptions':{'noEmit':True,'types':['node','jest'],'noUnusedLocals':False},'include':['src/**/*.ts','test/**/*.ts']},
    }
    for f,c in files.items():
        if not os.path.exists(d+'/'+f): json.dump(c,open(d+'/'+f,'w'),indent=2)
    if not os.path.exists(d+'/jest.config.js'):
        open(d+'/jest.config.js','w').write("module.exports = { ...require('../../jest.preset.js'), displayName: '%s' };\n"%name)
    if not os.path.exists(d+'/README.md'):
        open(d+'/README.md','w').write(f'# @simpler/{name}\n\n{desc}\n\nSee the [project documentation](../../docs/README.md).\n')
