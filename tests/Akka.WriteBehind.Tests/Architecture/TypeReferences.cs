using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Akka.WriteBehind.Tests.Architecture;

/// <summary>
/// Which of an assembly's own types each of its top-level types references, read from its metadata: base types,
/// interfaces, generic constraints, attributes, the signatures of fields, methods, properties and locals, and every type,
/// field and method token in method bodies. Nested (and compiler-generated) types count for the type that declares them.
/// </summary>
internal static class TypeReferences
{
    /// <summary>Edges "from type" → "to type", both as full names of top-level types, for types in <paramref name="rootNamespace"/>.</summary>
    public static IReadOnlySet<(string From, string To)> Read(string assemblyPath, string rootNamespace)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var reader = pe.GetMetadataReader();
        var collector = new Collector(reader);
        var edges = new HashSet<(string, string)>();
        foreach (var handle in reader.TypeDefinitions)
        {
            var from = collector.TopLevelName(handle);
            if (!InNamespace(from, rootNamespace))
                continue;
            collector.Collect(handle, pe);
            foreach (var target in collector.Take())
            {
                var to = collector.TopLevelName(target);
                if (to != from && InNamespace(to, rootNamespace))
                    edges.Add((from, to));
            }
        }

        return edges;
    }

    private static bool InNamespace(string fullName, string ns) => fullName.StartsWith(ns + ".", StringComparison.Ordinal);

    private sealed class Collector : ISignatureTypeProvider<bool, object?>
    {
        private readonly MetadataReader _reader;
        private readonly HashSet<TypeDefinitionHandle> _found = new();

        public Collector(MetadataReader reader) => _reader = reader;

        public string TopLevelName(TypeDefinitionHandle handle)
        {
            var type = _reader.GetTypeDefinition(handle);
            while (!type.GetDeclaringType().IsNil)
                type = _reader.GetTypeDefinition(type.GetDeclaringType());
            var ns = _reader.GetString(type.Namespace);
            var name = _reader.GetString(type.Name);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public IReadOnlyCollection<TypeDefinitionHandle> Take()
        {
            var found = _found.ToArray();
            _found.Clear();
            return found;
        }

        public void Collect(TypeDefinitionHandle handle, PEReader pe)
        {
            var type = _reader.GetTypeDefinition(handle);
            Entity(type.BaseType);
            foreach (var i in type.GetInterfaceImplementations())
                Entity(_reader.GetInterfaceImplementation(i).Interface);
            GenericParameters(type.GetGenericParameters());
            Attributes(type.GetCustomAttributes());
            foreach (var f in type.GetFields())
            {
                var field = _reader.GetFieldDefinition(f);
                field.DecodeSignature(this, null);
                Attributes(field.GetCustomAttributes());
            }

            foreach (var p in type.GetProperties())
            {
                var property = _reader.GetPropertyDefinition(p);
                property.DecodeSignature(this, null);
                Attributes(property.GetCustomAttributes());
            }

            foreach (var e in type.GetEvents())
                Entity(_reader.GetEventDefinition(e).Type);
            foreach (var m in type.GetMethods())
            {
                var method = _reader.GetMethodDefinition(m);
                method.DecodeSignature(this, null);
                GenericParameters(method.GetGenericParameters());
                Attributes(method.GetCustomAttributes());
                if (method.RelativeVirtualAddress != 0)
                    Body(pe.GetMethodBody(method.RelativeVirtualAddress));
            }
        }

        private void GenericParameters(GenericParameterHandleCollection parameters)
        {
            foreach (var p in parameters)
                foreach (var c in _reader.GetGenericParameter(p).GetConstraints())
                    Entity(_reader.GetGenericParameterConstraint(c).Type);
        }

        private void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (var a in attributes)
                Entity(_reader.GetCustomAttribute(a).Constructor);
        }

        private void Body(MethodBodyBlock body)
        {
            if (!body.LocalSignature.IsNil)
                _reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null);
            foreach (var region in body.ExceptionRegions)
                Entity(region.CatchType);
            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                int code = il.ReadByte();
                if (code == 0xFE)
                    code = 0xFE00 | il.ReadByte();
                switch (Operand(code))
                {
                    case OperandKind.Token:
                        Entity(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    case OperandKind.Switch:
                        il.Offset += 4 * (int)il.ReadUInt32();
                        break;
                    case var skip:
                        il.Offset += (int)skip;
                        break;
                }
            }
        }

        private void Entity(EntityHandle handle)
        {
            if (handle.IsNil)
                return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    _found.Add((TypeDefinitionHandle)handle);
                    break;
                case HandleKind.TypeSpecification:
                    _reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
                case HandleKind.MethodDefinition:
                    _found.Add(_reader.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    _found.Add(_reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    var member = _reader.GetMemberReference((MemberReferenceHandle)handle);
                    Entity(member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method)
                        member.DecodeMethodSignature(this, null);
                    else
                        member.DecodeFieldSignature(this, null);
                    break;
                case HandleKind.MethodSpecification:
                    var spec = _reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Entity(spec.Method);
                    spec.DecodeSignature(this, null);
                    break;
            }
        }

        // operand sizes of the ECMA-335 IL instruction set; a token operand is read, any other operand skipped
        private enum OperandKind { None = 0, One = 1, Two = 2, Four = 4, Eight = 8, Token = 100, Switch = 101 }

        private static OperandKind Operand(int code) => code switch
        {
            >= 0x0E and <= 0x13 or 0x1F or >= 0x2B and <= 0x37 or 0xDE or 0xFE12 or 0xFE19 => OperandKind.One,
            >= 0xFE09 and <= 0xFE0E => OperandKind.Two,
            0x20 or 0x22 or 0x29 or 0x72 or >= 0x38 and <= 0x44 or 0xDD => OperandKind.Four,
            0x21 or 0x23 => OperandKind.Eight,
            0x45 => OperandKind.Switch,
            0x27 or 0x28 or 0x6F or 0x70 or 0x71 or 0x73 or 0x74 or 0x75 or 0x79 or >= 0x7B and <= 0x81 or 0x8C or 0x8D
                or 0x8F or >= 0xA3 and <= 0xA5 or 0xC2 or 0xC6 or 0xD0 or 0xFE06 or 0xFE07 or 0xFE15 or 0xFE16
                or 0xFE1C => OperandKind.Token,
            _ => OperandKind.None,
        };

        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            _found.Add(handle);
            return true;
        }

        public bool GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            Entity(handle);
            return true;
        }

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => true;
        public bool GetArrayType(bool elementType, ArrayShape shape) => true;
        public bool GetByReferenceType(bool elementType) => true;
        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => true;
        public bool GetPointerType(bool elementType) => true;
        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => true;
        public bool GetFunctionPointerType(MethodSignature<bool> signature) => true;
        public bool GetGenericMethodParameter(object? context, int index) => true;
        public bool GetGenericTypeParameter(object? context, int index) => true;
        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => true;
        public bool GetPinnedType(bool elementType) => true;
        public bool GetSZArrayType(bool elementType) => true;
    }
}
